{{- define "fixlib.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: openstack
{{- end -}}
{{- define "fixlib.image" -}}
{{ .Values.global.image.registry }}/{{ .Values.global.image.namespace }}/{{ .name }}:{{ .Values.global.image.tag | default (printf "%s-%s" .Values.global.release .Values.global.image.tagSuffix) }}
{{- end -}}

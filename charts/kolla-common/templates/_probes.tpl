{{/*
Probe bodies (write "readinessProbe:" / "livenessProbe:" yourself, then nindent this).
kolla.probe.tcp  takes: dict "port" 3306 [initialDelaySeconds periodSeconds timeoutSeconds failureThreshold]
kolla.probe.http takes: dict "path" "/v3" "port" 5000 ["scheme" "HTTP"] [same timing keys]
kolla.probe.exec takes: dict "command" (list ...) [same timing keys]
*/}}
{{- define "kolla.probe.timing" -}}
initialDelaySeconds: {{ .initialDelaySeconds | default 10 }}
periodSeconds: {{ .periodSeconds | default 10 }}
timeoutSeconds: {{ .timeoutSeconds | default 5 }}
failureThreshold: {{ .failureThreshold | default 3 }}
{{- end -}}
{{- define "kolla.probe.tcp" -}}
tcpSocket:
  port: {{ .port }}
{{ include "kolla.probe.timing" . }}
{{- end -}}
{{- define "kolla.probe.http" -}}
httpGet:
  path: {{ .path | default "/" }}
  port: {{ .port }}
  scheme: {{ .scheme | default "HTTP" }}
{{ include "kolla.probe.timing" . }}
{{- end -}}
{{- define "kolla.probe.exec" -}}
exec:
  command:
{{ toYaml .command | indent 4 }}
{{ include "kolla.probe.timing" . }}
{{- end -}}

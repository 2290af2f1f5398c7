{{/*
A Service.
Takes: dict "root" $ "name" "keystone-api" "component" "api"
       "ports" (list (dict "name" "api" "port" 5000 ["targetPort" 5000]))
       ["type" "ClusterIP"] ["headless" false] ["publishNotReady" false]
*/}}
{{- define "kolla.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
{{ include "kolla.labels" . | indent 4 }}
spec:
  type: {{ .type | default "ClusterIP" }}
{{- if .headless }}
  clusterIP: None
{{- end }}
{{- if .publishNotReady }}
  publishNotReadyAddresses: true
{{- end }}
  selector:
{{ include "kolla.selectorLabels" . | indent 4 }}
  ports:
{{- range .ports }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .targetPort | default .port }}
      protocol: {{ .protocol | default "TCP" }}
{{- end }}
{{- end -}}

{{/*
An API Deployment running one Kolla container fed by a config ConfigMap.
Takes: dict
  "root" $   "name" "keystone-api"   "component" "api"
  "image" (dict "name" "keystone")   "serviceName" "keystone" (KOLLA_SERVICE_NAME)
  "replicas" 1
  "configMap" "keystone-config"  "checksumTemplates" (list "/configmap.yaml")
  "ports" (list (dict "name" "api" "port" 5000))
  "readinessProbe" / "livenessProbe": strings, e.g. include "kolla.probe.http" (...)
  "env" string: extra env list items (optional)
  "volumes" / "volumeMounts": strings with extra list items (optional)
  "role" "controller"   "resources" dict (optional)   "securityContext" dict (optional)
*/}}
{{- define "kolla.apiDeployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
{{ include "kolla.labels" . | indent 4 }}
spec:
  replicas: {{ .replicas | default 1 }}
  selector:
    matchLabels:
{{ include "kolla.selectorLabels" . | indent 6 }}
  template:
    metadata:
      labels:
{{ include "kolla.labels" . | indent 8 }}
      annotations:
{{ include "kolla.checksumAnnotation" (dict "root" .root "templates" .checksumTemplates) | indent 8 }}
    spec:
{{- with include "kolla.nodeSelector" (dict "root" .root "role" (.role | default "controller")) }}{{ . | nindent 6 }}{{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "kolla.image" . | quote }}
          imagePullPolicy: {{ include "kolla.imagePullPolicy" . }}
          command: ["kolla_start"]
{{- with .securityContext }}
          securityContext:
{{ toYaml . | indent 12 }}
{{- end }}
          env:
{{ include "kolla.env" . | indent 12 }}
{{- with .env }}
{{ . | trim | indent 12 }}
{{- end }}
          ports:
{{- range .ports }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
{{- end }}
{{- with .readinessProbe }}
          readinessProbe:
{{ . | indent 12 }}
{{- end }}
{{- with .livenessProbe }}
          livenessProbe:
{{ . | indent 12 }}
{{- end }}
{{- with .resources }}
          resources:
{{ toYaml . | indent 12 }}
{{- end }}
          volumeMounts:
{{ include "kolla.configVolumeMount" dict | indent 12 }}
{{- with .volumeMounts }}
{{ . | trim | indent 12 }}
{{- end }}
      volumes:
{{ include "kolla.configVolume" (dict "configMap" .configMap) | indent 8 }}
{{- with .volumes }}
{{ . | trim | indent 8 }}
{{- end }}
{{- end -}}

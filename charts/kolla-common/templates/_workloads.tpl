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
The same as kolla.workload with kind Deployment.
*/}}
{{- define "kolla.apiDeployment" -}}
{{- include "kolla.workload" (merge (dict "kind" "Deployment") .) -}}
{{- end -}}

{{/*
A Deployment or DaemonSet of one Kolla container (plus optional init and extra containers), fed
by a config ConfigMap through kolla_start. kolla.apiDeployment covers API Deployments only;
this covers workers without ports, DaemonSets, host networking and privileges.
Takes: dict
  "root" $  "kind" "Deployment"|"DaemonSet"  "name"  "component"
  "image" (dict name tag ...)  "serviceName" (KOLLA_SERVICE_NAME)
  "configMap"  "checksumTemplates" (list "/configmap.yaml")
  ["replicas" 1] (Deployment)  ["strategy" "Recreate"] (Deployment)
  ["role" "controller"] or ["roles" (list "network" "compute")] (any of them)
  or ["affinity" string] (an "affinity:" block, used as is)
  ["ports" (list (dict "name" "api" "port" 8774))]
  ["readinessProbe" / "livenessProbe" strings (probe bodies)]
  ["env" "volumes" "volumeMounts" "initContainers" "containers"] strings with list items
  ["hostNetwork" bool] ["hostPID" bool] ["hostIPC" bool]
  ["privileged" bool] or ["securityContext" dict] (the container's)
  ["resources" dict] ["terminationGracePeriodSeconds" int]
*/}}
{{- define "kolla.workload" -}}
{{- $ctx := dict "root" .root "component" .component -}}
apiVersion: apps/v1
kind: {{ .kind }}
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
{{ include "kolla.labels" $ctx | indent 4 }}
spec:
{{- if eq .kind "Deployment" }}
  replicas: {{ .replicas | default 1 }}
{{- with .strategy }}
  strategy:
    type: {{ . }}
{{- end }}
{{- else }}
  updateStrategy:
    type: RollingUpdate
{{- end }}
  selector:
    matchLabels:
{{ include "kolla.selectorLabels" $ctx | indent 6 }}
  template:
    metadata:
      labels:
{{ include "kolla.labels" $ctx | indent 8 }}
      annotations:
{{ include "kolla.checksumAnnotation" (dict "root" .root "templates" .checksumTemplates) | indent 8 }}
    spec:
{{- if .affinity }}
{{ .affinity | trim | indent 6 }}
{{- else if .roles }}
{{ include "kolla.nodeAffinityAnyRole" (dict "root" .root "roles" .roles) | indent 6 }}
{{- else }}
{{- with include "kolla.nodeSelector" (dict "root" .root "role" (.role | default "controller")) }}{{ . | nindent 6 }}{{- end }}
{{- end }}
{{- if .hostNetwork }}
      hostNetwork: true
      dnsPolicy: ClusterFirstWithHostNet
{{- end }}
{{- if .hostPID }}
      hostPID: true
{{- end }}
{{- if .hostIPC }}
      hostIPC: true
{{- end }}
{{- with .terminationGracePeriodSeconds }}
      terminationGracePeriodSeconds: {{ . }}
{{- end }}
{{- with .initContainers }}
      initContainers:
{{ . | trim | indent 8 }}
{{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "kolla.image" . | quote }}
          imagePullPolicy: {{ include "kolla.imagePullPolicy" . }}
          command: ["kolla_start"]
{{- if .privileged }}
          securityContext:
            privileged: true
{{- else if .securityContext }}
          securityContext:
{{ toYaml .securityContext | indent 12 }}
{{- end }}
          env:
{{ include "kolla.env" . | indent 12 }}
{{- with .env }}
{{ . | trim | indent 12 }}
{{- end }}
{{- with .ports }}
          ports:
{{- range . }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
{{- end }}
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
{{- with .containers }}
{{ . | trim | indent 8 }}
{{- end }}
      volumes:
{{ include "kolla.configVolume" (dict "configMap" .configMap) | indent 8 }}
{{- with .volumes }}
{{ . | trim | indent 8 }}
{{- end }}
{{- end -}}

{{/*
Standard labels of every object.
Takes: dict "root" $ "component" "<component>"
*/}}
{{- define "kolla.labels" -}}
{{ include "kolla.selectorLabels" . }}
app.kubernetes.io/part-of: openstack
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Values.global.release | default .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{/*
Selector labels (stable across upgrades).
Takes: dict "root" $ "component" "<component>"
*/}}
{{- define "kolla.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
Metadata block (name, labels, optional annotations) for an object.
Takes: dict "root" $ "name" "<object name>" "component" "<component>" ["annotations" dict]
*/}}
{{- define "kolla.metadata" -}}
name: {{ .name }}
labels:
{{ include "kolla.labels" . | indent 2 }}
{{- with .annotations }}
annotations:
{{ toYaml . | indent 2 }}
{{- end }}
{{- end -}}

{{/*
The Kolla image reference, contracts §2:
<registry>/<namespace>/<name>:<tag or global.image.tag or release-tagSuffix>
Takes: dict "root" $ "image" (dict "name" "keystone" ["tag" "..."] ["registry" ..] ["namespace" ..])
*/}}
{{- define "kolla.image" -}}
{{- $g := .root.Values.global.image -}}
{{- $i := .image | default dict -}}
{{- if not $i.name -}}{{- fail "kolla.image: image.name is required" -}}{{- end -}}
{{- $registry := $i.registry | default $g.registry -}}
{{- $namespace := $i.namespace | default $g.namespace -}}
{{- $tag := $i.tag | default $g.tag | default (printf "%s-%s" .root.Values.global.release $g.tagSuffix) -}}
{{- printf "%s/%s/%s:%s" $registry $namespace $i.name $tag -}}
{{- end -}}

{{/*
imagePullPolicy: the component's image.pullPolicy, else global.image.pullPolicy.
Takes: dict "root" $ "image" (dict ...)
*/}}
{{- define "kolla.imagePullPolicy" -}}
{{- (.image | default dict).pullPolicy | default .root.Values.global.image.pullPolicy | default "IfNotPresent" -}}
{{- end -}}

{{/*
nodeSelector for a node role from global.nodeSelector (controller, compute, network).
Takes: dict "root" $ "role" "controller"
Emits: the "nodeSelector:" key with its map, or "" when the role has no selector. Use it as
  {{- with include "kolla.nodeSelector" (dict "root" $ "role" "controller") }}{{ . | nindent 6 }}{{- end }}
*/}}
{{- define "kolla.nodeSelector" -}}
{{- $sel := index (.root.Values.global.nodeSelector | default dict) .role -}}
{{- with $sel -}}
nodeSelector:
{{ toYaml . | indent 2 }}
{{- end -}}
{{- end -}}

{{/*
Required node affinity: a node matching ANY of the given roles' selectors.
Takes: dict "root" $ "roles" (list "network" "compute")
*/}}
{{- define "kolla.nodeAffinityAnyRole" -}}
affinity:
  nodeAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      nodeSelectorTerms:
{{- range $role := .roles }}
{{- $sel := index ($.root.Values.global.nodeSelector | default dict) $role }}
{{- if $sel }}
        - matchExpressions:
{{- range $k, $v := $sel }}
            - key: {{ $k | quote }}
              operator: In
              values: [{{ $v | quote }}]
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
The Kubernetes DNS name of an in-cluster Service: <name>.<namespace>.svc
Takes: dict "root" $ "service" "keystone-api"
*/}}
{{- define "kolla.serviceHost" -}}
{{- printf "%s.%s.svc" .service .root.Release.Namespace -}}
{{- end -}}

{{/*
Keystone endpoint URLs (contracts §6).
kolla.endpoint.internal: http://<service>.<namespace>.svc:<port><path>
kolla.endpoint.public:   http://<global.network.externalAddress>:<port><path> when set, else internal.
Takes: dict "root" $ "service" "glance-api" "port" 9292 ["path" "/v2.1"]
*/}}
{{- define "kolla.endpoint.internal" -}}
{{- printf "http://%s:%v%s" (include "kolla.serviceHost" .) .port (.path | default "") -}}
{{- end -}}
{{- define "kolla.endpoint.public" -}}
{{- $ext := (.root.Values.global.network | default dict).externalAddress -}}
{{- if $ext -}}
{{- printf "http://%s:%v%s" $ext .port (.path | default "") -}}
{{- else -}}
{{- include "kolla.endpoint.internal" . -}}
{{- end -}}
{{- end -}}

{{/*
The keystone auth URL other services use: the internal endpoint of keystone-api:5000.
Takes: $ (root)
*/}}
{{- define "kolla.keystoneAuthUrl" -}}
{{- include "kolla.endpoint.internal" (dict "root" . "service" "keystone-api" "port" 5000) -}}
{{- end -}}

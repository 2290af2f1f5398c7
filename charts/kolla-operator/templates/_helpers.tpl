{{/* Names and labels of the kolla-operator chart. */}}

{{- define "kolla-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kolla-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "kolla-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "kolla-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "kolla-operator.labels" -}}
{{ include "kolla-operator.selectorLabels" . }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: openstack
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "kolla-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
The rules the operator needs in the namespaces it watches, one per line of what it does
(src/operator): nothing more. A ClusterRole when it watches every namespace, else a Role.
*/}}
{{- define "kolla-operator.rules" -}}
# OpenStackDeployments: watched; finalizer added and removed with PUT; status written with PUT.
- apiGroups: [kolla.openstack.org]
  resources: [openstackdeployments]
  verbs: [get, list, watch, update]
- apiGroups: [kolla.openstack.org]
  resources: [openstackdeployments/status]
  verbs: [update]
# The OpenStackServices it creates carry a blocking ownerReference to their deployment.
- apiGroups: [kolla.openstack.org]
  resources: [openstackdeployments/finalizers]
  verbs: [update]
# OpenStackServices: created by server-side apply, watched, finalizer, status, torn down.
- apiGroups: [kolla.openstack.org]
  resources: [openstackservices]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [kolla.openstack.org]
  resources: [openstackservices/status]
  verbs: [update]
- apiGroups: [kolla.openstack.org]
  resources: [openstackservices/finalizers]
  verbs: [update]
# What the service charts render, applied with server-side apply, read for health, pruned and
# deleted by the inventory label. Workloads are also watched to wake their service up.
- apiGroups: [apps]
  resources: [deployments, statefulsets, daemonsets]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, patch, delete]
# Services, claims and ConfigMaps are also watched (by the inventory label) to wake their
# service up and to be read from a cache.
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [services, persistentvolumeclaims]
  verbs: [get, list, watch, create, patch, delete]
# Kinds of the operator's inventory that no chart renders today: listed by the inventory label
# when pruning and on teardown, deleted when labelled. No get, create or patch.
- apiGroups: [""]
  resources: [secrets, serviceaccounts]
  verbs: [list, delete]
- apiGroups: [rbac.authorization.k8s.io]
  resources: [roles, rolebindings]
  verbs: [list, delete]
# Service health: ready endpoints behind a Service, watched to notice them at once.
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
# Pods: those on a node that is not Ready (listed by spec.nodeName) make their services
# Degraded; those of Jobs (label batch.kubernetes.io/job-name) are watched, so that a Job whose
# pod succeeded counts before the Job controller marks it Complete. Never read one by one.
- apiGroups: [""]
  resources: [pods]
  verbs: [list, watch]
# Events on OpenStackDeployments and OpenStackServices (repeats are patched).
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- end -}}

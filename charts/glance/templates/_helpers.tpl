{{/* glance-api.conf as kolla-ansible renders it for the file backend, minus every secret:
     database connection, transport_url, keystone_authtoken password and memcache secret key come
     from the environment (contracts §5); worker_self_reference_url from the pod IP. */}}
{{- define "glance.configFiles" -}}
glance-api.conf: |
  [DEFAULT]
  debug = {{ .Values.conf.debug | ternary "True" "False" }}
  use_stderr = true
  bind_host = 0.0.0.0
  bind_port = 9292
  workers = {{ .Values.api.workers }}
  enabled_backends = file:file
  # transport_url comes from OS_DEFAULT__TRANSPORT_URL,
  # worker_self_reference_url from OS_DEFAULT__WORKER_SELF_REFERENCE_URL

  # connection comes from OS_DATABASE__CONNECTION
  [database]
  connection_recycle_time = {{ .Values.conf.database.connectionRecycleTime }}
  max_pool_size = {{ .Values.conf.database.maxPoolSize }}
  max_retries = -1

  # password and memcache_secret_key come from the environment
  [keystone_authtoken]
  service_type = image
  www_authenticate_uri = {{ include "kolla.endpoint.public" (dict "root" . "service" "keystone-api" "port" 5000) }}
  auth_url = {{ include "kolla.keystoneAuthUrl" . }}
  auth_type = password
  project_domain_id = default
  user_domain_id = default
  project_name = service
  username = {{ .Values.keystone.user }}
  region_name = {{ .Values.global.region }}
  memcache_security_strategy = {{ .Values.conf.memcacheSecurityStrategy }}
  memcached_servers = {{ include "kolla.memcacheServers" . }}

  [paste_deploy]
  flavor = keystone

  [glance_store]
  default_backend = file

  [file]
  filesystem_store_datadir = /var/lib/glance/images/

  [os_glance_tasks_store]
  filesystem_store_datadir = /var/lib/glance/tasks_work_dir

  [os_glance_staging_store]
  filesystem_store_datadir = /var/lib/glance/staging

  [oslo_middleware]
  enable_proxy_headers_parsing = true

  [oslo_concurrency]
  lock_path = /var/lib/glance/tmp

  [oslo_messaging_notifications]
{{- if .Values.conf.notifications }}
  driver = messagingv2
  topics = notifications
{{- else }}
  driver = noop
{{- end }}

  [oslo_messaging_rabbit]
  use_queue_manager = true
  heartbeat_in_pthread = false
  rabbit_quorum_queue = true
  rabbit_transient_quorum_queue = true
{{- end -}}

{{- define "glance.configJson" -}}
command: glance-api
configFiles:
  - {source: glance-api.conf, dest: /etc/glance/glance-api.conf, owner: glance, perm: "0600"}
permissions:
  - {path: /var/log/kolla/glance, owner: "glance:kolla", recurse: true}
  - {path: /var/lib/glance, owner: "glance:glance", recurse: true}
{{- end -}}

{{/* Env of every glance container: database, messaging, service password, token cache key. */}}
{{- define "glance.env" -}}
{{ include "kolla.dbConnectionEnv" (dict "root" . "user" .Values.database.user "database" .Values.database.name "passwordKey" "glance_database_password") }}
{{ include "kolla.transportUrlEnv" (dict "root" .) }}
{{ include "kolla.secretEnv" (dict "root" . "vars" (dict "OS_KEYSTONE_AUTHTOKEN__PASSWORD" "glance_keystone_password" "OS_KEYSTONE_AUTHTOKEN__MEMCACHE_SECRET_KEY" "memcache_secret_key")) }}
{{- end -}}

{{/* The image store volume and its mount at /var/lib/glance (images, staging, tasks). */}}
{{- define "glance.storeVolume" -}}
- name: glance-store
  persistentVolumeClaim:
    claimName: glance-images
{{- end -}}
{{- define "glance.storeVolumeMount" -}}
- name: glance-store
  mountPath: /var/lib/glance
{{- end -}}

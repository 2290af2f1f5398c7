{{/* placement.conf and the uWSGI config, as kolla-ansible renders them, minus every secret:
     the database connection, keystone_authtoken password and memcache secret key come from the
     environment (contracts §5). Logs go to stderr for kubectl logs. */}}
{{- define "placement.configFiles" -}}
placement.conf: |
  [DEFAULT]
  debug = {{ .Values.conf.debug | ternary "True" "False" }}
  use_stderr = true
  state_path = /var/lib/placement

  [oslo_middleware]
  enable_proxy_headers_parsing = true

  [oslo_concurrency]
  lock_path = /var/lib/placement/tmp

  # connection comes from OS_PLACEMENT_DATABASE__CONNECTION
  [placement_database]
  connection_recycle_time = {{ .Values.conf.database.connectionRecycleTime }}
  max_overflow = 1000
  max_pool_size = {{ .Values.conf.database.maxPoolSize }}
  max_retries = -1

  [cache]
  backend = oslo_cache.memcache_pool
  enabled = true
  memcache_servers = {{ include "kolla.memcacheServers" . }}

  # password and memcache_secret_key come from the environment
  [keystone_authtoken]
  service_type = placement
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
placement-api-uwsgi.ini: |
{{ include "kolla.uwsgi" (dict "port" 8780 "module" "placement.wsgi.api:application" "workers" .Values.api.workers "uid" "placement") | indent 2 }}
{{- end -}}

{{- define "placement.configJson" -}}
command: uwsgi /etc/placement/placement-api-uwsgi.ini
configFiles:
  - {source: placement.conf, dest: /etc/placement/placement.conf, owner: placement, perm: "0600"}
  - {source: placement-api-uwsgi.ini, dest: /etc/placement/placement-api-uwsgi.ini, owner: placement, perm: "0600"}
permissions:
  - {path: /var/log/kolla/placement, owner: "placement:kolla", recurse: true}
  - {path: /var/lib/placement, owner: "placement:placement", recurse: true}
{{- end -}}

{{/* Env of every placement container: database, service password, token cache key. */}}
{{- define "placement.env" -}}
{{ include "kolla.dbConnectionEnv" (dict "root" . "user" .Values.database.user "database" .Values.database.name "passwordKey" "placement_database_password" "group" "placement_database") }}
{{ include "kolla.secretEnv" (dict "root" . "vars" (dict "OS_KEYSTONE_AUTHTOKEN__PASSWORD" "placement_keystone_password" "OS_KEYSTONE_AUTHTOKEN__MEMCACHE_SECRET_KEY" "memcache_secret_key")) }}
{{- end -}}

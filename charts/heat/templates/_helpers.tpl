{{/* heat.conf as kolla-ansible renders it, minus every secret: database connection,
     transport_url, keystone_authtoken / trustee passwords, the stack domain admin password and
     the memcache secret key come from the environment (contracts §5). "component" is api,
     api-cfn or engine. */}}
{{- define "heat.conf" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $cfn := include "kolla.endpoint.public" (dict "root" $root "service" "heat-api-cfn" "port" 8000) -}}
[DEFAULT]
debug = {{ $v.conf.debug | ternary "True" "False" }}
use_stderr = true
heat_metadata_server_url = {{ $cfn }}
heat_waitcondition_server_url = {{ $cfn }}/v1/waitcondition
heat_stack_user_role = {{ $v.keystone.stackUserRole }}
stack_domain_admin = {{ $v.keystone.stackDomainAdmin }}
stack_user_domain_name = {{ $v.keystone.stackDomain }}
{{- if eq .component "engine" }}
num_engine_workers = {{ $v.engine.workers }}
{{- end }}
region_name_for_services = {{ $v.global.region }}
server_keystone_endpoint_type = public
# transport_url comes from OS_DEFAULT__TRANSPORT_URL,
# stack_domain_admin_password from OS_DEFAULT__STACK_DOMAIN_ADMIN_PASSWORD

# connection comes from OS_DATABASE__CONNECTION
[database]
connection_recycle_time = {{ $v.conf.database.connectionRecycleTime }}
max_pool_size = {{ $v.conf.database.maxPoolSize }}
max_retries = -1

# password and memcache_secret_key come from the environment
[keystone_authtoken]
service_type = orchestration
www_authenticate_uri = {{ include "kolla.endpoint.public" (dict "root" $root "service" "keystone-api" "port" 5000) }}
auth_url = {{ include "kolla.keystoneAuthUrl" $root }}
auth_type = password
project_domain_id = default
user_domain_id = default
project_name = service
username = {{ $v.keystone.user }}
region_name = {{ $v.global.region }}
memcache_security_strategy = {{ $v.conf.memcacheSecurityStrategy }}
memcached_servers = {{ include "kolla.memcacheServers" $root }}

[cache]
backend = oslo_cache.memcache_pool
enabled = true
memcache_servers = {{ include "kolla.memcacheServers" $root }}

# password comes from OS_TRUSTEE__PASSWORD
[trustee]
auth_url = {{ include "kolla.keystoneAuthUrl" $root }}
auth_type = password
user_domain_id = default
username = {{ $v.keystone.user }}

[ec2authtoken]
auth_uri = {{ include "kolla.keystoneAuthUrl" $root }}

[oslo_messaging_notifications]
{{- if $v.conf.notifications }}
driver = messagingv2
topics = notifications
{{- else }}
driver = noop
{{- end }}

[oslo_messaging_rabbit]
use_queue_manager = true
{{- if ne .component "engine" }}
processname = heat-{{ .component }}
{{- end }}
heartbeat_in_pthread = {{ ne .component "engine" | ternary "True" "False" }}
rabbit_quorum_queue = true
rabbit_transient_quorum_queue = true

[clients]
endpoint_type = internalURL

[oslo_middleware]
enable_proxy_headers_parsing = true

[volumes]
backups_enabled = False

[oslo_concurrency]
lock_path = /var/lib/heat/tmp
{{- end -}}


{{- define "heat.permissions" -}}
- {path: /var/log/kolla/heat, owner: "heat:heat", recurse: true}
{{- end -}}

{{/* Env of every heat container. */}}
{{- define "heat.env" -}}
{{ include "kolla.dbConnectionEnv" (dict "root" . "user" .Values.database.user "database" .Values.database.name "passwordKey" "heat_database_password") }}
{{ include "kolla.transportUrlEnv" (dict "root" .) }}
{{ include "kolla.secretEnv" (dict "root" . "vars" (dict
  "OS_KEYSTONE_AUTHTOKEN__PASSWORD" "heat_keystone_password"
  "OS_KEYSTONE_AUTHTOKEN__MEMCACHE_SECRET_KEY" "memcache_secret_key"
  "OS_TRUSTEE__PASSWORD" "heat_keystone_password"
  "OS_DEFAULT__STACK_DOMAIN_ADMIN_PASSWORD" "heat_domain_admin_password")) }}
{{- end -}}

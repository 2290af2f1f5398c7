{{/* cinder.conf as kolla-ansible renders it, minus every secret: database connection,
     transport_url, keystone_authtoken / [nova] passwords and memcache secret key come from the
     environment (contracts §5). "component" selects the per-service lines (api, scheduler,
     volume) like kolla-ansible's service_name. */}}
{{- define "cinder.conf" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
[DEFAULT]
debug = {{ $v.conf.debug | ternary "True" "False" }}
use_stderr = true
use_forwarded_for = true
volume_name_template = volume-%s
glance_api_servers = {{ include "kolla.endpoint.internal" (dict "root" $root "service" "glance-api" "port" 9292) }}
glance_num_retries = 1
api_paste_config = /etc/cinder/api-paste.ini
auth_strategy = keystone
{{- if eq .component "volume" }}
host = {{ $v.volume.host }}
enabled_backends = {{ ternary $v.volume.lvm.backendName $v.volume.nfs.backendName (eq $v.volume.backend "lvm") }}
{{- end }}
# transport_url comes from OS_DEFAULT__TRANSPORT_URL, my_ip from OS_DEFAULT__MY_IP

[oslo_messaging_notifications]
{{- if $v.conf.notifications }}
driver = messagingv2
topics = notifications
{{- else }}
driver = noop
{{- end }}

[oslo_messaging_rabbit]
use_queue_manager = true
{{- if eq .component "api" }}
processname = cinder-api
{{- end }}
heartbeat_in_pthread = {{ eq .component "api" | ternary "True" "False" }}
rabbit_quorum_queue = true
rabbit_transient_quorum_queue = true

[oslo_middleware]
enable_proxy_headers_parsing = true

# password comes from OS_NOVA__PASSWORD
[nova]
interface = internal
auth_url = {{ include "kolla.keystoneAuthUrl" $root }}
auth_type = password
project_domain_id = default
user_domain_id = default
region_name = {{ $v.global.region }}
project_name = service
username = nova

# connection comes from OS_DATABASE__CONNECTION
[database]
connection_recycle_time = {{ $v.conf.database.connectionRecycleTime }}
max_pool_size = {{ $v.conf.database.maxPoolSize }}
max_retries = -1

# password and memcache_secret_key come from the environment
[keystone_authtoken]
service_type = volume
service_token_roles_required = true
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

[oslo_concurrency]
lock_path = /var/lib/cinder/tmp
{{- if eq $v.volume.backend "lvm" }}

[{{ $v.volume.lvm.backendName }}]
volume_group = {{ $v.volume.lvm.volumeGroup }}
volume_driver = cinder.volume.drivers.lvm.LVMVolumeDriver
volume_backend_name = {{ $v.volume.lvm.backendName }}
target_helper = {{ $v.volume.lvm.targetHelper }}
target_protocol = iscsi
{{- else }}

[{{ $v.volume.nfs.backendName }}]
volume_driver = cinder.volume.drivers.nfs.NfsDriver
volume_backend_name = {{ $v.volume.nfs.backendName }}
nfs_shares_config = /etc/cinder/nfs_shares
nfs_snapshot_support = true
nas_secure_file_permissions = false
nas_secure_file_operations = false
{{- with $v.volume.nfs.mountOptions }}
nfs_mount_options = {{ . }}
{{- end }}
{{- end }}

[privsep_entrypoint]
helper_command = sudo cinder-rootwrap /etc/cinder/rootwrap.conf privsep-helper --config-file /etc/cinder/cinder.conf
{{- end -}}

{{- define "cinder.permissions" -}}
- {path: /var/lib/cinder, owner: "cinder:cinder", recurse: true}
- {path: /var/log/kolla/cinder, owner: "cinder:cinder", recurse: true}
{{- end -}}

{{/* Env of every cinder container: database, messaging, passwords, my_ip. */}}
{{- define "cinder.env" -}}
{{ include "kolla.dbConnectionEnv" (dict "root" . "user" .Values.database.user "database" .Values.database.name "passwordKey" "cinder_database_password") }}
{{ include "kolla.transportUrlEnv" (dict "root" .) }}
{{ include "kolla.secretEnv" (dict "root" . "vars" (dict "OS_KEYSTONE_AUTHTOKEN__PASSWORD" "cinder_keystone_password" "OS_KEYSTONE_AUTHTOKEN__MEMCACHE_SECRET_KEY" "memcache_secret_key" "OS_NOVA__PASSWORD" "nova_keystone_password")) }}
- name: POD_IP
  valueFrom:
    fieldRef:
      fieldPath: status.podIP
- name: OS_DEFAULT__MY_IP
  value: $(POD_IP)
{{- end -}}

{{/* nova.conf as kolla-ansible's nova and nova-cell roles render it (single cell), minus every
     secret: database connections, transport_url, the keystone_authtoken / [neutron] /
     [placement] / [cinder] / [service_user] passwords, the metadata proxy secret and the
     memcache secret key come from the environment (contracts §5); node addresses come from
     the environment too. Takes: dict "root" $ "component" (api, metadata, scheduler,
     conductor, novncproxy, compute). */}}
{{- define "nova.conf" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $c := .component -}}
{{- $ks := include "kolla.keystoneAuthUrl" $root -}}
[DEFAULT]
debug = {{ $v.conf.debug | ternary "True" "False" }}
use_stderr = true
state_path = /var/lib/nova
allow_resize_to_same_host = true
{{- if eq $c "compute" }}
compute_driver = libvirt.LibvirtDriver
{{- end }}
# my_ip comes from OS_DEFAULT__MY_IP, transport_url from OS_DEFAULT__TRANSPORT_URL

[conductor]
workers = {{ $v.conductor.workers }}

[oslo_middleware]
enable_proxy_headers_parsing = true

[oslo_concurrency]
lock_path = /var/lib/nova/tmp
{{- if has $c (list "compute" "novncproxy") }}

# server_listen / server_proxyclient_address come from the environment (node address)
[vnc]
novncproxy_host = 0.0.0.0
novncproxy_port = 6080
{{- if eq $c "compute" }}
novncproxy_base_url = {{ include "kolla.endpoint.public" (dict "root" $root "service" "nova-novncproxy" "port" 6080 "path" "/vnc_lite.html") }}
{{- end }}
{{- end }}

[glance]
api_servers = {{ include "kolla.endpoint.internal" (dict "root" $root "service" "glance-api" "port" 9292) }}
num_retries = 3
debug = {{ $v.conf.debug | ternary "True" "False" }}
{{- if $v.conf.cinder }}

# password comes from OS_CINDER__PASSWORD
[cinder]
catalog_info = block-storage::internalURL
os_region_name = {{ $v.global.region }}
auth_url = {{ $ks }}
auth_type = password
project_domain_name = Default
user_domain_id = default
project_name = service
username = cinder
{{- end }}

# password and metadata_proxy_shared_secret come from the environment
[neutron]
service_metadata_proxy = true
auth_url = {{ $ks }}
auth_type = password
project_domain_name = Default
user_domain_id = default
project_name = service
username = neutron
region_name = {{ $v.global.region }}
valid_interfaces = internal
{{- if ne $c "compute" }}

# connection comes from OS_DATABASE__CONNECTION
[database]
connection_recycle_time = {{ $v.conf.database.connectionRecycleTime }}
max_overflow = 1000
max_pool_size = {{ $v.conf.database.maxPoolSize }}
max_retries = -1
{{- end }}
{{- if has $c (list "api" "metadata" "scheduler" "conductor") }}

# connection comes from OS_API_DATABASE__CONNECTION
[api_database]
connection_recycle_time = {{ $v.conf.database.connectionRecycleTime }}
max_pool_size = {{ $v.conf.database.maxPoolSize }}
max_retries = -1
{{- end }}

[cache]
backend = oslo_cache.memcache_pool
enabled = true
memcache_servers = {{ include "kolla.memcacheServers" $root }}

# password and memcache_secret_key come from the environment
[keystone_authtoken]
service_type = compute
www_authenticate_uri = {{ include "kolla.endpoint.public" (dict "root" $root "service" "keystone-api" "port" 5000) }}
auth_url = {{ $ks }}
auth_type = password
project_domain_id = default
user_domain_id = default
project_name = service
username = {{ $v.keystone.user }}
region_name = {{ $v.global.region }}
memcache_security_strategy = {{ $v.conf.memcacheSecurityStrategy }}
memcached_servers = {{ include "kolla.memcacheServers" $root }}

[upgrade_levels]
compute = auto

[oslo_messaging_notifications]
{{- if $v.conf.notifications }}
driver = messagingv2
topics = notifications
{{- else }}
driver = noop
{{- end }}

[oslo_messaging_rabbit]
use_queue_manager = true
{{- if has $c (list "api" "metadata") }}
processname = nova-{{ $c }}
{{- end }}
heartbeat_in_pthread = {{ eq $c "api" | ternary "True" "False" }}
rabbit_quorum_queue = true
rabbit_transient_quorum_queue = true

[privsep_entrypoint]
helper_command = sudo nova-rootwrap /etc/nova/rootwrap.conf privsep-helper --config-file /etc/nova/nova.conf

[guestfs]
debug = {{ $v.conf.debug | ternary "True" "False" }}

[wsgi]
api_paste_config = /etc/nova/api-paste.ini

[scheduler]
max_attempts = 10
discover_hosts_in_cells_interval = {{ $v.cells.discoverHostsInterval }}
workers = {{ $v.scheduler.workers }}

# password comes from OS_PLACEMENT__PASSWORD
[placement]
auth_type = password
auth_url = {{ $ks }}
username = placement
user_domain_name = Default
project_name = service
project_domain_name = Default
region_name = {{ $v.global.region }}
valid_interfaces = internal

[notifications]
{{- if eq $c "compute" }}

# connection_uri / live_migration_inbound_addr come from the environment
[libvirt]
virt_type = {{ $v.compute.virtType }}
{{- with $v.compute.cpuMode }}
cpu_mode = {{ . }}
{{- end }}
num_pcie_ports = 16

[workarounds]
skip_cpu_compare_on_dest = true
{{- end }}

# password comes from OS_SERVICE_USER__PASSWORD
[service_user]
send_service_user_token = true
auth_url = {{ $ks }}
auth_type = password
project_domain_id = default
user_domain_id = default
project_name = service
username = {{ $v.keystone.user }}
region_name = {{ $v.global.region }}
valid_interfaces = internal
{{- end -}}


{{- define "nova.libvirtdConf" -}}
{{- if .Values.libvirt.listenTcp }}
listen_tcp = 1
listen_tls = 0
auth_tcp = "none"
tcp_port = "16509"
listen_addr = "@HOST_IP@"
{{- else }}
listen_tcp = 0
listen_tls = 0
{{- end }}
ca_file = ""
log_level = 3
log_outputs = "3:stderr"
# nova-compute (user nova, same uid/gid in every Kolla image) uses the unix socket
unix_sock_group = "nova"
unix_sock_rw_perms = "0770"
auth_unix_rw = "none"
{{- end -}}

{{- define "nova.qemuConf" -}}
stdio_handler = "logd"

user = "nova"
group = "nova"

max_files = {{ .Values.libvirt.qemuMaxFiles }}
max_processes = {{ .Values.libvirt.qemuMaxProcesses }}
{{- end -}}

{{- define "nova.libvirtStart" -}}
#!/bin/bash
set -o errexit
set -o nounset
# libvirtd.conf carries a placeholder for this node's address (HOST_IP from the downward API).
sed -i "s|@HOST_IP@|${HOST_IP}|g" /etc/libvirt/libvirtd.conf
exec /usr/local/bin/kolla_nova_libvirt_start
{{- end -}}

{{- define "nova.permissions" -}}
- {path: /var/log/kolla/nova, owner: "nova:nova", recurse: true}
{{- end -}}

{{/* Database host:port. */}}
{{- define "nova.dbAddress" -}}
{{- $ep := .Values.endpoints.database | default dict -}}
{{- printf "%s:%v" ($ep.host | default "mariadb") ($ep.port | default 3306) -}}
{{- end -}}

{{/* Env of the controller components. Takes: dict "root" $ "component".
     api, metadata, scheduler: [api_database] nova_api and [database] nova_cell0 (kolla-ansible's
     API-level services); conductor: [api_database] and [database] nova (cell1); novncproxy:
     [database] nova (console tokens). */}}
{{- define "nova.env" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $c := .component -}}
{{- $d := $v.database -}}
{{- if has $c (list "api" "metadata" "scheduler" "conductor") }}
{{ include "kolla.dbConnectionEnv" (dict "root" $root "user" $d.apiUser "database" $d.apiName "passwordKey" "nova_api_database_password" "group" "api_database" "var" "API_DATABASE_PASSWORD") }}
{{- end }}
{{ include "kolla.dbConnectionEnv" (dict "root" $root "user" $d.user "database" (ternary $d.cell0Name $d.cellName (has $c (list "api" "metadata" "scheduler"))) "passwordKey" "nova_database_password") }}
{{ include "nova.serviceEnv" (dict "root" $root "component" $c) }}
{{- end -}}

{{/* Messaging and the service passwords a nova process needs. Takes: dict "root" $
     "component"; only the API processes (api, metadata) validate tokens and sign metadata
     responses, so only they get the keystone_authtoken password, memcache key and metadata
     secret. */}}
{{- define "nova.serviceEnv" -}}
{{- $root := .root -}}
{{ include "kolla.transportUrlEnv" (dict "root" $root) }}
{{- $vars := dict
  "OS_SERVICE_USER__PASSWORD" "nova_keystone_password"
  "OS_NEUTRON__PASSWORD" "neutron_keystone_password"
  "OS_PLACEMENT__PASSWORD" "placement_keystone_password" -}}
{{- if has .component (list "api" "metadata") }}
{{- $_ := set $vars "OS_KEYSTONE_AUTHTOKEN__PASSWORD" "nova_keystone_password" }}
{{- $_ := set $vars "OS_KEYSTONE_AUTHTOKEN__MEMCACHE_SECRET_KEY" "memcache_secret_key" }}
{{- $_ := set $vars "OS_NEUTRON__METADATA_PROXY_SHARED_SECRET" "metadata_secret" }}
{{- end }}
{{- if $root.Values.conf.cinder }}
{{- $_ := set $vars "OS_CINDER__PASSWORD" "cinder_keystone_password" }}
{{- end }}
{{ include "kolla.secretEnv" (dict "root" $root "vars" $vars) }}
{{- end -}}

{{/* The node (hostNetwork) or pod address as my_ip and related options. Takes: dict
     "fieldPath" "status.hostIP" "options" (list "OS_VNC__SERVER_LISTEN" ...). */}}
{{- define "nova.addressEnv" -}}
- name: HOST_IP
  valueFrom:
    fieldRef:
      fieldPath: {{ .fieldPath }}
- name: OS_DEFAULT__MY_IP
  value: $(HOST_IP)
{{- range .options }}
- name: {{ . }}
  value: $(HOST_IP)
{{- end }}
{{- end -}}

{{/* The cell1 connection for the bootstrap Jobs (DATABASE_PASSWORD is defined by nova.env). */}}
{{- define "nova.cell1ConnectionEnv" -}}
- name: CELL1_CONNECTION
  value: {{ printf "mysql+pymysql://%s:$(DATABASE_PASSWORD)@%s/%s" .Values.database.user (include "nova.dbAddress" .) .Values.database.cellName | quote }}
- name: CELL_NAME
  value: {{ .Values.cells.name | quote }}
{{- end -}}

{{/* neutron.conf as kolla-ansible renders it for the openvswitch plugin, minus every secret:
     database connection, transport_url and the keystone_authtoken / [nova] / [placement]
     passwords come from the environment (contracts §5). */}}
{{- define "neutron.conf" -}}
{{- $v := .Values -}}
[DEFAULT]
debug = {{ $v.conf.debug | ternary "True" "False" }}
use_stderr = true
bind_host = 0.0.0.0
bind_port = 9696
api_paste_config = /etc/neutron/api-paste.ini
api_workers = {{ $v.server.workers }}
rpc_workers = {{ $v.server.rpcWorkers }}
rpc_state_report_workers = {{ $v.server.rpcWorkers }}
state_path = /var/lib/neutron/kolla
interface_driver = openvswitch
core_plugin = ml2
service_plugins = {{ join "," $v.conf.servicePlugins }}
dns_domain = {{ $v.conf.dnsDomain }}
ipam_driver = internal
# transport_url comes from OS_DEFAULT__TRANSPORT_URL

# password comes from OS_NOVA__PASSWORD
[nova]
auth_url = {{ include "kolla.keystoneAuthUrl" . }}
auth_type = password
project_domain_id = default
user_domain_id = default
region_name = {{ $v.global.region }}
project_name = service
username = nova
endpoint_type = internal

[oslo_middleware]
enable_proxy_headers_parsing = true

[oslo_concurrency]
lock_path = /var/lib/neutron/tmp

[agent]
root_helper = sudo neutron-rootwrap /etc/neutron/rootwrap.conf

# connection comes from OS_DATABASE__CONNECTION
[database]
connection_recycle_time = {{ $v.conf.database.connectionRecycleTime }}
max_pool_size = {{ $v.conf.database.maxPoolSize }}
max_retries = -1

# password and memcache_secret_key come from the environment
[keystone_authtoken]
service_type = network
www_authenticate_uri = {{ include "kolla.endpoint.public" (dict "root" . "service" "keystone-api" "port" 5000) }}
auth_url = {{ include "kolla.keystoneAuthUrl" . }}
auth_type = password
project_domain_id = default
user_domain_id = default
project_name = service
username = {{ $v.keystone.user }}
region_name = {{ $v.global.region }}
memcache_security_strategy = {{ $v.conf.memcacheSecurityStrategy }}
memcached_servers = {{ include "kolla.memcacheServers" . }}

[oslo_messaging_notifications]
{{- if $v.conf.notifications }}
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

# password comes from OS_PLACEMENT__PASSWORD
[placement]
auth_type = password
auth_url = {{ include "kolla.keystoneAuthUrl" . }}
username = placement
user_domain_name = Default
project_name = service
project_domain_name = Default
endpoint_type = internal
region_name = {{ $v.global.region }}

[privsep]
helper_command = sudo neutron-rootwrap /etc/neutron/rootwrap.conf privsep-helper
{{- end -}}

{{- define "neutron.ml2" -}}
{{- $c := .Values.conf -}}
[ml2]
type_drivers = {{ join "," $c.typeDrivers }}
tenant_network_types = {{ join "," $c.tenantNetworkTypes }}
mechanism_drivers = {{ join "," $c.mechanismDrivers }}
extension_drivers = {{ join "," $c.extensionDrivers }}

[ml2_type_vlan]
network_vlan_ranges =

[ml2_type_flat]
flat_networks = {{ .Values.ovs.physnet }}

[ml2_type_vxlan]
vni_ranges = {{ $c.vniRanges }}
{{- end -}}

{{/* Takes: dict "root" $ "external" bool (map the external bridge). local_ip comes from
     OS_OVS__LOCAL_IP (the node's address). */}}
{{- define "neutron.ovsAgent" -}}
{{- $o := .root.Values.ovs -}}
[agent]
tunnel_types = vxlan
l2_population = true
arp_responder = true

[securitygroup]
firewall_driver = neutron.agent.linux.iptables_firewall.OVSHybridIptablesFirewallDriver

[ovs]
{{- if .external }}
bridge_mappings = {{ $o.physnet }}:{{ $o.bridge }}
{{- end }}
datapath_type = {{ $o.datapathType }}
ovsdb_connection = tcp:127.0.0.1:{{ $o.ovsdbPort }}
ovsdb_timeout = {{ $o.ovsdbTimeout }}
{{- end -}}

{{- define "neutron.dhcpAgent" -}}
[DEFAULT]
dnsmasq_config_file = /etc/neutron/dnsmasq.conf
enable_isolated_metadata = true
force_metadata = true
dnsmasq_dns_servers = {{ .Values.conf.dnsmasqDnsServers }}

[ovs]
ovsdb_connection = tcp:127.0.0.1:{{ .Values.ovs.ovsdbPort }}
ovsdb_timeout = {{ .Values.ovs.ovsdbTimeout }}
{{- end -}}

{{- define "neutron.dnsmasq" -}}
log-async
log-facility=/var/log/kolla/neutron/dnsmasq.log
{{- if .Values.conf.debug }}
log-dhcp
log-queries
{{- end }}
{{- end -}}

{{- define "neutron.l3Agent" -}}
[DEFAULT]
agent_mode = legacy

[agent]

[ovs]
ovsdb_connection = tcp:127.0.0.1:{{ .Values.ovs.ovsdbPort }}
ovsdb_timeout = {{ .Values.ovs.ovsdbTimeout }}
{{- end -}}

{{- define "neutron.l3Wrapper" -}}
#!/bin/bash
set -o errexit
exec neutron-l3-agent --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/l3_agent.ini
{{- end -}}

{{/* metadata_proxy_shared_secret comes from OS_DEFAULT__METADATA_PROXY_SHARED_SECRET. */}}
{{- define "neutron.metadataAgent" -}}
{{- $m := .Values.conf.novaMetadata -}}
[DEFAULT]
nova_metadata_host = {{ include "kolla.serviceHost" (dict "root" . "service" $m.service) }}
nova_metadata_port = {{ $m.port }}
nova_metadata_protocol = http
metadata_workers = {{ .Values.agents.metadata.workers }}
{{- end -}}

{{- define "neutron.permissions" -}}
- {path: /var/log/kolla/neutron, owner: "neutron:neutron", recurse: true}
- {path: /var/lib/neutron/kolla, owner: "neutron:neutron", recurse: true}
{{- end -}}

{{/* Env of neutron-server (and its db-sync): database, messaging, service passwords. */}}
{{- define "neutron.serverEnv" -}}
{{ include "kolla.dbConnectionEnv" (dict "root" . "user" .Values.database.user "database" .Values.database.name "passwordKey" "neutron_database_password") }}
{{ include "kolla.transportUrlEnv" (dict "root" .) }}
{{ include "kolla.secretEnv" (dict "root" . "vars" (dict
  "OS_KEYSTONE_AUTHTOKEN__PASSWORD" "neutron_keystone_password"
  "OS_KEYSTONE_AUTHTOKEN__MEMCACHE_SECRET_KEY" "memcache_secret_key"
  "OS_NOVA__PASSWORD" "nova_keystone_password"
  "OS_PLACEMENT__PASSWORD" "placement_keystone_password")) }}
{{- end -}}

{{/* Env of the agents: only the messaging transport (they reach the database through
     neutron-server over RPC), plus the node address. */}}
{{- define "neutron.agentEnv" -}}
{{ include "kolla.transportUrlEnv" (dict "root" .) }}
- name: HOST_IP
  valueFrom:
    fieldRef:
      fieldPath: status.hostIP
{{- end -}}

{{/* hostPath volumes of the agents. Takes: list of names. */}}
{{- define "neutron.hostVolumes" -}}
{{- $all := dict
  "run-openvswitch" (dict "vol" (dict "path" "/run/openvswitch" "type" "DirectoryOrCreate") "mount" (dict "mountPath" "/run/openvswitch"))
  "lib-modules" (dict "vol" (dict "path" "/lib/modules") "mount" (dict "mountPath" "/lib/modules" "readOnly" true))
  "run-netns" (dict "vol" (dict "path" "/run/netns" "type" "DirectoryOrCreate") "mount" (dict "mountPath" "/run/netns" "mountPropagation" "Bidirectional"))
  "neutron-state" (dict "vol" (dict "path" "/var/lib/neutron/kolla" "type" "DirectoryOrCreate") "mount" (dict "mountPath" "/var/lib/neutron/kolla")) -}}
{{- $vols := list -}}
{{- $mounts := list -}}
{{- range . -}}
{{- $e := index $all . -}}
{{- $vols = append $vols (dict "name" . "hostPath" $e.vol) -}}
{{- $mounts = append $mounts (merge (dict "name" .) $e.mount) -}}
{{- end -}}
{{- toYaml (dict "volumes" $vols "mounts" $mounts) -}}
{{- end -}}

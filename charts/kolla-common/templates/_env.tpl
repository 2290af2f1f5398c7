{{/*
The standard environment of a Kolla container.
Takes: dict "root" $ "serviceName" "keystone"
Emits: env list items: KOLLA_CONFIG_STRATEGY (global.configStrategy, default COPY_ALWAYS),
       KOLLA_SERVICE_NAME.
*/}}
{{- define "kolla.env" -}}
- name: KOLLA_CONFIG_STRATEGY
  value: {{ .root.Values.global.configStrategy | default "COPY_ALWAYS" | quote }}
- name: KOLLA_SERVICE_NAME
  value: {{ .serviceName | quote }}
{{- end -}}

{{/*
Env entries reading keys of the passwords Secret (global.passwordsSecret), contracts §5.
Takes: dict "root" $ "vars" (dict "ENV_NAME" "secret_key" ...)   (rendered sorted by ENV_NAME)
Emits: env list items with valueFrom.secretKeyRef.
*/}}
{{- define "kolla.secretEnv" -}}
{{- include "kolla.secretEnv.items" . | trim -}}
{{- end -}}
{{- define "kolla.secretEnv.items" -}}
{{- $secret := .root.Values.global.passwordsSecret | default "openstack-passwords" -}}
{{- range $name, $key := .vars }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $key }}
{{- end }}
{{- end -}}

{{/*
A database connection through oslo.config's environment source.
Takes: dict "root" $ "user" "glance" "database" "glance" "passwordKey" "glance_database_password"
       ["group" "database"] ["var" "DATABASE_PASSWORD"]
Emits: <var> (secretKeyRef) then OS_<GROUP>__CONNECTION=mysql+pymysql://user:$(<var>)@host:port/db
The host is .Values.endpoints.database.host (default mariadb), port ...port (default 3306).
*/}}
{{- define "kolla.dbConnectionEnv" -}}
{{- $var := .var | default "DATABASE_PASSWORD" -}}
{{- $group := .group | default "database" -}}
{{- $ep := ((.root.Values.endpoints | default dict).database | default dict) -}}
{{ include "kolla.secretEnv" (dict "root" .root "vars" (dict $var .passwordKey)) }}
- name: {{ printf "OS_%s__CONNECTION" (upper $group) }}
  value: {{ printf "mysql+pymysql://%s:$(%s)@%s:%v/%s" .user $var ($ep.host | default "mariadb") ($ep.port | default 3306) .database | quote }}
{{- end -}}

{{/*
The RabbitMQ transport URL through the environment.
Takes: dict "root" $ ["user" "openstack"] ["passwordKey" "rabbitmq_password"] ["vhost" ""]
       ["var" "RABBITMQ_PASSWORD"] ["option" "OS_DEFAULT__TRANSPORT_URL"]
Emits: <var> (secretKeyRef) then <option>=rabbit://user:$(<var>)@rabbitmq:5672/<vhost>
*/}}
{{- define "kolla.transportUrlEnv" -}}
{{- $var := .var | default "RABBITMQ_PASSWORD" -}}
{{- $ep := ((.root.Values.endpoints | default dict).messaging | default dict) -}}
{{ include "kolla.secretEnv" (dict "root" .root "vars" (dict $var (.passwordKey | default "rabbitmq_password"))) }}
- name: {{ .option | default "OS_DEFAULT__TRANSPORT_URL" }}
  value: {{ printf "rabbit://%s:$(%s)@%s:%v/%s" (.user | default "openstack") $var ($ep.host | default "rabbitmq") ($ep.port | default 5672) (.vhost | default "") | quote }}
{{- end -}}

{{/*
The memcached server list ("host:port") other charts put in [cache] / [keystone_authtoken].
Takes: $ (root); reads .Values.endpoints.cache.{host,port}, default memcached:11211
*/}}
{{- define "kolla.memcacheServers" -}}
{{- $ep := ((.Values.endpoints | default dict).cache | default dict) -}}
{{- printf "%s:%v" ($ep.host | default "memcached") ($ep.port | default 11211) -}}
{{- end -}}

{{/*
Environment for the openstack CLI acting as the Keystone admin (kolla-toolbox jobs).
Takes: $ (root)
*/}}
{{- define "kolla.openstackAdminEnv" -}}
{{ include "kolla.secretEnv" (dict "root" . "vars" (dict "OS_PASSWORD" "keystone_admin_password")) }}
- name: OS_AUTH_URL
  value: {{ printf "%s/v3" (include "kolla.keystoneAuthUrl" .) | quote }}
- name: OS_IDENTITY_API_VERSION
  value: "3"
- name: OS_USERNAME
  value: admin
- name: OS_PROJECT_NAME
  value: admin
- name: OS_USER_DOMAIN_NAME
  value: Default
- name: OS_PROJECT_DOMAIN_NAME
  value: Default
- name: OS_REGION_NAME
  value: {{ .Values.global.region | default "RegionOne" | quote }}
- name: OS_INTERFACE
  value: internal
{{- end -}}

{{- define "keystone.configFiles" -}}
keystone.conf: |
  [DEFAULT]
  debug = {{ .Values.conf.debug | ternary "True" "False" }}
  log_file = /var/log/kolla/keystone/keystone.log
  use_stderr = true

  [oslo_middleware]
  enable_proxy_headers_parsing = true

  # connection comes from OS_DATABASE__CONNECTION (password from the Secret)
  [database]
  connection_recycle_time = {{ .Values.conf.database.connectionRecycleTime }}
  max_pool_size = {{ .Values.conf.database.maxPoolSize }}
  max_retries = -1

  [token]
  revoke_by_id = false
  provider = fernet
  expiration = {{ .Values.conf.token.expiration }}
  allow_expired_window = {{ .Values.conf.token.allowExpiredWindow }}

  [fernet_tokens]
  key_repository = /etc/keystone/fernet-keys/
  max_active_keys = {{ add (div (sub (add .Values.conf.token.expiration .Values.conf.token.allowExpiredWindow .Values.conf.fernetKeyRotationInterval) 1) .Values.conf.fernetKeyRotationInterval) 2 }}

  [credential]
  key_repository = /etc/keystone/credential-keys/

  # memcache_servers comes from OS_CACHE__MEMCACHE_SERVERS
  [cache]
  backend = oslo_cache.memcache_pool
  enabled = true

  [oslo_messaging_notifications]
  driver = noop
wsgi-keystone.conf: |
{{ include "kolla.apacheWsgi" (dict "name" "keystone-public" "port" 5000 "workers" .Values.api.workers "script" "keystone-wsgi-public" "user" "keystone" "filesMatch" "^keystone-wsgi-(public|admin)$") | indent 2 }}
keystone-startup.sh: |
  #!/bin/bash
  set -o errexit
  set -o pipefail
  # The Fernet keys come from the passwords Secret; refuse to start without the staging key.
  if [ ! -f /etc/keystone/fernet-keys/0 ]; then
      echo "CRITICAL: /etc/keystone/fernet-keys/0 is missing" >&2
      exit 1
  fi
  exec /usr/sbin/apache2 "$@"
{{- end -}}

{{- define "keystone.configJson" -}}
command: /usr/bin/keystone-startup.sh
configFiles:
  - {source: keystone-startup.sh, dest: /usr/bin/keystone-startup.sh, owner: root, perm: "0755"}
  - {source: keystone.conf, dest: /etc/keystone/keystone.conf, owner: keystone, perm: "0600"}
  - {source: wsgi-keystone.conf, dest: /etc/apache2/conf-enabled/wsgi-keystone.conf, owner: keystone, perm: "0600"}
  - {source: /var/lib/kolla/keystone-keys/keystone_fernet_key_0, dest: /etc/keystone/fernet-keys/0, owner: keystone, perm: "0600"}
  - {source: /var/lib/kolla/keystone-keys/keystone_fernet_key_1, dest: /etc/keystone/fernet-keys/1, owner: keystone, perm: "0600"}
  - {source: /var/lib/kolla/keystone-keys/keystone_credential_key_0, dest: /etc/keystone/credential-keys/0, owner: keystone, perm: "0600"}
  - {source: /var/lib/kolla/keystone-keys/keystone_credential_key_1, dest: /etc/keystone/credential-keys/1, owner: keystone, perm: "0600"}
permissions:
  - {path: /var/log/kolla, owner: "keystone:kolla"}
  - {path: /etc/keystone/fernet-keys, owner: "keystone:keystone", perm: "0770"}
  - {path: /etc/keystone/credential-keys, owner: "keystone:keystone", perm: "0700"}
{{- end -}}

{{/* Env of every keystone container: database, cache. */}}
{{- define "keystone.env" -}}
{{ include "kolla.dbConnectionEnv" (dict "root" . "user" "keystone" "database" "keystone" "passwordKey" "keystone_database_password") }}
- name: OS_CACHE__MEMCACHE_SERVERS
  value: {{ include "kolla.memcacheServers" . | quote }}
{{- end -}}

{{/* The Secret keys with Fernet and credential keys, mounted where config.json copies them from. */}}
{{- define "keystone.keysVolume" -}}
- name: keystone-keys
  secret:
    secretName: {{ .Values.global.passwordsSecret }}
    defaultMode: 0400
    items:
{{- range list "keystone_fernet_key_0" "keystone_fernet_key_1" "keystone_credential_key_0" "keystone_credential_key_1" }}
      - {key: {{ . }}, path: {{ . }}}
{{- end }}
{{- end -}}
{{- define "keystone.keysVolumeMount" -}}
- name: keystone-keys
  mountPath: /var/lib/kolla/keystone-keys
  readOnly: true
{{- end -}}

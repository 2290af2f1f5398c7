{{/*
Kolla's config.json (read by kolla_set_configs from /var/lib/kolla/config_files/config.json).
Takes: dict
  "command"     string, the command kolla_start execs
  "configFiles" list of dict {source, dest, owner, perm, optional}; a source without a leading
                "/" is taken relative to /var/lib/kolla/config_files
  "permissions" list of dict {path, owner, perm?, recurse?}   (optional)
Emits: the JSON document (keys sorted, stable).
*/}}
{{- define "kolla.configJson" -}}
{{- $files := list -}}
{{- range .configFiles | default list -}}
{{- $src := .source -}}
{{- if not (hasPrefix "/" $src) -}}{{- $src = printf "/var/lib/kolla/config_files/%s" $src -}}{{- end -}}
{{- $f := dict "source" $src "dest" .dest "owner" (.owner | default "root") "perm" (.perm | default "0600") -}}
{{- if .optional -}}{{- $_ := set $f "optional" true -}}{{- end -}}
{{- if .merge -}}{{- $_ := set $f "merge" true -}}{{- end -}}
{{- $files = append $files $f -}}
{{- end -}}
{{- $doc := dict "command" (required "kolla.configJson: command is required" .command) "config_files" $files "permissions" (.permissions | default list) -}}
{{- toPrettyJson $doc -}}
{{- end -}}

{{/*
A ConfigMap holding config.json plus the files it copies.
Takes: dict
  "root"      $
  "name"      ConfigMap name
  "component" component label
  "configJson" dict for kolla.configJson (command, configFiles, permissions)
  "files"     dict filename -> content (never passwords; those come from the environment)
  "hook"      bool: render as a pre-install/pre-upgrade hook at the "config" weight (-20) so
              that bootstrap Jobs can mount it (default false)
*/}}
{{- define "kolla.configMap" -}}
{{- if and (kindIs "map" .files) (hasKey .files "Error") -}}{{- fail (printf "kolla.configMap %s: the files did not parse (fromYaml): %v" .name (index .files "Error")) -}}{{- end -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
{{ include "kolla.labels" . | indent 4 }}
{{- if .hook }}
  annotations:
{{ include "kolla.hookAnnotations" (dict "phase" "config") | indent 4 }}
{{- end }}
data:
  config.json: |
{{ include "kolla.configJson" .configJson | indent 4 }}
{{- range $k, $v := .files | default dict }}
  {{ $k }}: |
{{ $v | trimSuffix "\n" | indent 4 }}
{{- end }}
{{- end -}}

{{/*
Pod annotation with the sha256 of the rendered config templates (contracts §7).
Takes: dict "root" $ "templates" (list "/configmap.yaml" ...)   paths below templates/
Emits: checksum/config: <hex>
*/}}
{{- define "kolla.checksumAnnotation" -}}
{{- $acc := "" -}}
{{- range .templates -}}
{{- $acc = print $acc (include (print $.root.Template.BasePath .) $.root) -}}
{{- end -}}
checksum/config: {{ sha256sum $acc | quote }}
{{- end -}}

{{/*
The volume and mount that feed a ConfigMap to kolla_set_configs.
kolla.configVolume takes: dict "name" "<volume name>" "configMap" "<ConfigMap name>" ["defaultMode" 0444]
kolla.configVolumeMount takes: dict "name" "<volume name>"
Each emits one list item (starting with "- ").
*/}}
{{- define "kolla.configVolume" -}}
- name: {{ .name | default "kolla-config" }}
  configMap:
    name: {{ .configMap }}
    defaultMode: {{ .defaultMode | default 0444 }}
{{- end -}}
{{- define "kolla.configVolumeMount" -}}
- name: {{ .name | default "kolla-config" }}
  mountPath: /var/lib/kolla/config_files
  readOnly: true
{{- end -}}

{{/*
An Apache + mod_wsgi site of an API (kolla-ansible's wsgi-<service>.conf), logging to
stdout/stderr. The script is /var/lib/kolla/venv/bin/<script>.
Takes: dict "name" "heat-api" (WSGI process group) "port" 8004 "workers" 2
       "script" "heat-wsgi-api" "user" "heat" (process user and group)
       ["filesMatch" (FilesMatch pattern of the scripts allowed; default: script)]
*/}}
{{- define "kolla.apacheWsgi" -}}
Listen 0.0.0.0:{{ .port }}

ServerSignature Off
ServerTokens Prod
TraceEnable off
TimeOut 60
KeepAliveTimeout 60

<Directory "/var/lib/kolla/venv/bin">
    <FilesMatch "{{ .filesMatch | default .script }}">
        AllowOverride None
        Options None
        Require all granted
    </FilesMatch>
</Directory>

ErrorLog /dev/stderr
<IfModule log_config_module>
    CustomLog /dev/stdout common
</IfModule>

<VirtualHost *:{{ .port }}>
    WSGIDaemonProcess {{ .name }} processes={{ .workers }} threads=1 user={{ .user }} group={{ .user }} display-name={{ .name }}
    WSGIProcessGroup {{ .name }}
    WSGIScriptAlias / /var/lib/kolla/venv/bin/{{ .script }}
    WSGIApplicationGroup %{GLOBAL}
    WSGIPassAuthorization On
    ErrorLogFormat "%{cu}t %M"
    ErrorLog /dev/stderr
    LogFormat "%{X-Forwarded-For}i %l %u %t \"%r\" %>s %b %D \"%{Referer}i\" \"%{User-Agent}i\"" logformat
    CustomLog /dev/stdout logformat
</VirtualHost>
{{- end -}}

{{/*
A uWSGI ini of an API (kolla-ansible's <service>-api-uwsgi.ini), HTTP on all addresses.
Takes: dict "port" 8776 "module" "cinder.wsgi.api:application" "workers" 2 "uid" "cinder"
*/}}
{{- define "kolla.uwsgi" -}}
[uwsgi]
add-header = Connection: close
buffer-size = 65535
die-on-term = true
enable-threads = true
exit-on-reload = false
hook-master-start = unix_signal:15 gracefully_kill_them_all
http = 0.0.0.0:{{ .port }}
lazy-apps = true
master = true
module = {{ .module }}
plugins-dir = /usr/lib/uwsgi/plugins
plugins = python3
processes = {{ .workers }}
thunder-lock = true
uid = {{ .uid }}
worker-reload-mercy = 80
{{- end -}}

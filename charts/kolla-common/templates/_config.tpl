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

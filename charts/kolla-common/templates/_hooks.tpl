{{/*
Hook weight of a bootstrap phase (contracts §4):
  config -20, db-init -10, db-sync -8, ks-register -6, rabbit-init -4, bootstrap -2,
  post (post-install,post-upgrade) 0.
Takes: the phase name (string). Fails on an unknown phase.
*/}}
{{- define "kolla.hookWeight" -}}
{{- $w := dict "config" "-20" "db-init" "-10" "db-sync" "-8" "ks-register" "-6" "rabbit-init" "-4" "bootstrap" "-2" "post" "0" -}}
{{- if not (hasKey $w .) -}}{{- fail (printf "kolla.hookWeight: unknown phase %q (known: config, db-init, db-sync, ks-register, rabbit-init, bootstrap, post)" .) -}}{{- end -}}
{{- index $w . -}}
{{- end -}}

{{/*
Helm hook annotations of a phase.
Takes: dict "phase" "db-sync" ["weight" "-7" or -7] (overrides the phase weight; 0 is honoured)
Emits: helm.sh/hook (pre-install,pre-upgrade; post-install,post-upgrade for phase "post"),
       helm.sh/hook-weight, helm.sh/hook-delete-policy: before-hook-creation
*/}}
{{- define "kolla.hookAnnotations" -}}
helm.sh/hook: {{ ternary "post-install,post-upgrade" "pre-install,pre-upgrade" (eq .phase "post") | quote }}
{{- $weight := include "kolla.hookWeight" .phase }}
{{- if not (or (kindIs "invalid" .weight) (eq (toString .weight) "")) }}
{{- if not (regexMatch "^-?[0-9]+$" (toString .weight)) }}{{ fail (printf "kolla.hookAnnotations: hook weight %q is not an integer" (toString .weight)) }}{{ end }}
{{- $weight = toString .weight }}
{{- end }}
helm.sh/hook-weight: {{ $weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation
{{- end -}}

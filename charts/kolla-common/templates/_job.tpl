{{/*
The kolla-toolbox image of the db-init / ks-register / rabbit-init Jobs (and of a chart's own
toolbox Jobs), as a YAML dict for kolla.image: .Values.toolbox.image (name, tag, registry,
namespace, pullPolicy; each optional) over name kolla-toolbox; registry, namespace, tag and
pullPolicy default to global.image like every other image.
Takes: $ (root). Use: "image" (include "kolla.toolboxImage" $ | fromYaml)
*/}}
{{- define "kolla.toolboxImage" -}}
{{- $image := deepCopy (((.Values.toolbox | default dict).image) | default dict) -}}
{{- if not $image.name -}}{{- $_ := set $image "name" "kolla-toolbox" -}}{{- end -}}
{{- toYaml $image -}}
{{- end -}}

{{/*
A bootstrap Job (a Helm hook of one phase).
Takes: dict
  "root"        $
  "name"        Job name
  "component"   component label (default: name)
  "phase"       db-init | db-sync | ks-register | rabbit-init | bootstrap | post
  "weight"      hook weight (optional; default: the phase's, kolla.hookWeight). Keep it inside the
                phase's range (between the neighbouring phases' weights) so the order holds.
  "image"       dict for kolla.image (name, tag...)
  "command"     list (optional; default: the image's own, i.e. kolla_start)
  "args"        list (optional)
  "env"         string: extra env list items (YAML), e.g. from kolla.secretEnv (optional)
  "kolla"       bool: add kolla.env (KOLLA_CONFIG_STRATEGY/KOLLA_SERVICE_NAME) (default false)
  "serviceName" KOLLA_SERVICE_NAME when kolla is true (default: component)
  "bootstrap"   bool: add KOLLA_BOOTSTRAP="" (kolla's "db sync and exit" mode) (default false)
  "configMap"   ConfigMap to mount at /var/lib/kolla/config_files (optional)
  "checksumTemplates" list of template paths for checksum/config (optional; needed with configMap)
  "volumes"     string: extra volume list items (optional)
  "volumeMounts" string: extra volumeMount list items (optional)
  "role"        node role for kolla.nodeSelector (default controller)
  "backoffLimit" (default .Values.jobs.backoffLimit or 10)
  "securityContext" dict for the container (optional)
*/}}
{{- define "kolla.job" -}}
{{- $component := .component | default .name -}}
{{- $ctx := dict "root" .root "component" $component -}}
{{- $jobs := .root.Values.jobs | default dict -}}
{{- /* hasKey, not default: a backoffLimit of 0 is a real value */ -}}
{{- $backoffLimit := 10 -}}
{{- if hasKey . "backoffLimit" }}{{ $backoffLimit = .backoffLimit }}{{ else if hasKey $jobs "backoffLimit" }}{{ $backoffLimit = $jobs.backoffLimit }}{{ end -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
{{ include "kolla.labels" $ctx | indent 4 }}
  annotations:
{{ include "kolla.hookAnnotations" (dict "phase" .phase "weight" .weight) | indent 4 }}
spec:
  backoffLimit: {{ $backoffLimit }}
  template:
    metadata:
      labels:
{{ include "kolla.selectorLabels" $ctx | indent 8 }}
        app.kubernetes.io/part-of: openstack
{{- if .checksumTemplates }}
      annotations:
{{ include "kolla.checksumAnnotation" (dict "root" .root "templates" .checksumTemplates) | indent 8 }}
{{- end }}
    spec:
      restartPolicy: OnFailure
{{- with include "kolla.nodeSelector" (dict "root" .root "role" (.role | default "controller")) }}{{ . | nindent 6 }}{{- end }}
      containers:
        - name: {{ .name }}
          image: {{ include "kolla.image" . | quote }}
          imagePullPolicy: {{ include "kolla.imagePullPolicy" . }}
{{- with .command }}
          command:
{{ toYaml . | indent 12 }}
{{- end }}
{{- with .args }}
          args:
{{ toYaml . | indent 12 }}
{{- end }}
{{- with .securityContext }}
          securityContext:
{{ toYaml . | indent 12 }}
{{- end }}
{{- if or .kolla .bootstrap .env }}
          env:
{{- if .kolla }}
{{ include "kolla.env" (dict "root" .root "serviceName" (.serviceName | default $component)) | indent 12 }}
{{- end }}
{{- if .bootstrap }}
            - name: KOLLA_BOOTSTRAP
              value: ""
{{- end }}
{{- with .env }}
{{ . | trim | indent 12 }}
{{- end }}
{{- end }}
{{- if or .configMap .volumeMounts }}
          volumeMounts:
{{- if .configMap }}
{{ include "kolla.configVolumeMount" dict | indent 12 }}
{{- end }}
{{- with .volumeMounts }}
{{ . | trim | indent 12 }}
{{- end }}
{{- end }}
{{- if or .configMap .volumes }}
      volumes:
{{- if .configMap }}
{{ include "kolla.configVolume" (dict "configMap" .configMap) | indent 8 }}
{{- end }}
{{- with .volumes }}
{{ . | trim | indent 8 }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
db-init: creates databases and users in MariaDB, idempotently (CREATE DATABASE IF NOT EXISTS,
CREATE USER IF NOT EXISTS, ALTER USER to the current password, GRANT ALL on the database),
with the kolla-toolbox image's python3 + PyMySQL (kolla-toolbox ships no mysql client).
Logs in as root with the Secret key database_password. Waits up to 5 minutes for MariaDB.
Takes: dict "root" $ "databases" (list (dict "name" "nova_api" "user" "nova" "passwordKey" "nova_database_password") ...)
       ["name" "<chart>-db-init"] ["weight" (hook weight, default the phase's)]
*/}}
{{- define "kolla.dbInitJob" -}}
{{- $ep := ((.root.Values.endpoints | default dict).database | default dict) -}}
{{- $vars := dict "DB_ROOT_PASSWORD" "database_password" -}}
{{- $plain := list -}}
{{- range $i, $db := .databases -}}
{{- if not (regexMatch "^[A-Za-z0-9_]+$" $db.name) -}}{{- fail (printf "kolla.dbInitJob: bad database name %q" $db.name) -}}{{- end -}}
{{- if not (regexMatch "^[A-Za-z0-9_]+$" $db.user) -}}{{- fail (printf "kolla.dbInitJob: bad user name %q" $db.user) -}}{{- end -}}
{{- $_ := set $vars (printf "DB_%d_PASSWORD" $i) $db.passwordKey -}}
{{- $plain = append $plain (dict "name" (printf "DB_%d_NAME" $i) "value" $db.name) -}}
{{- $plain = append $plain (dict "name" (printf "DB_%d_USER" $i) "value" $db.user) -}}
{{- end -}}
{{- $plain = concat (list (dict "name" "DB_HOST" "value" ($ep.host | default "mariadb")) (dict "name" "DB_PORT" "value" (toString ($ep.port | default 3306))) (dict "name" "DB_ROOT_USER" "value" "root") (dict "name" "DB_COUNT" "value" (toString (len .databases)))) $plain -}}
{{- $env := print (include "kolla.secretEnv" (dict "root" .root "vars" $vars)) "\n" (toYaml $plain) -}}
{{- $script := `import os, re, sys, time
import pymysql

def connect():
    for attempt in range(60):
        try:
            return pymysql.connect(host=os.environ["DB_HOST"], port=int(os.environ["DB_PORT"]),
                                   user=os.environ["DB_ROOT_USER"],
                                   password=os.environ["DB_ROOT_PASSWORD"], connect_timeout=10)
        except pymysql.err.OperationalError as e:
            print("waiting for the database: %s" % e.args[0], flush=True)
            time.sleep(5)
    sys.exit("database not reachable")

conn = connect()
with conn.cursor() as cur:
    for i in range(int(os.environ["DB_COUNT"])):
        name = os.environ["DB_%d_NAME" % i]
        user = os.environ["DB_%d_USER" % i]
        password = os.environ["DB_%d_PASSWORD" % i]
        # names are plain identifiers (checked here and at render time), so no quoting needed
        if not re.match(r"^[A-Za-z0-9_]+$", name) or not re.match(r"^[A-Za-z0-9_]+$", user):
            sys.exit("bad database or user name")
        cur.execute("CREATE DATABASE IF NOT EXISTS %s" % name)
        cur.execute("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", (user, password))
        cur.execute("ALTER USER %s@'%%' IDENTIFIED BY %s", (user, password))
        cur.execute("GRANT ALL PRIVILEGES ON %s.* TO %s@'%%'" % (name, conn.escape(user)))
        print("database %s and user %s ready" % (name, user), flush=True)
conn.commit()
conn.close()
` -}}
{{- include "kolla.job" (dict "root" .root "name" (.name | default (printf "%s-db-init" .root.Chart.Name)) "component" "db-init" "phase" "db-init" "weight" .weight "image" (include "kolla.toolboxImage" .root | fromYaml) "command" (list "python3" "-c" $script) "env" $env) -}}
{{- end -}}

{{/*
db-sync: the service image with the service's config mounted. By default it runs kolla_start in
kolla's bootstrap mode (KOLLA_BOOTSTRAP="": extend_start.sh runs the service's db sync and
exits). With a "command" of its own the Job runs that command instead, and KOLLA_BOOTSTRAP is
not set (only kolla_start's extend_start.sh reads it); pass "bootstrap" true to set it anyway.
Takes: dict "root" $ "image" (dict "name" "glance-api") "configMap" "glance-api-config"
       "checksumTemplates" (list "/configmap.yaml") "serviceName" "glance-api"
       "env" (extra env YAML, e.g. kolla.dbConnectionEnv) ["name" "<chart>-db-sync"]
       ["command" (list ...)] (default: kolla_start)
       ["bootstrap" bool] (default: true without "command", false with it)
       ["weight" "-8"] (hook weight, default the db-sync phase's)
*/}}
{{- define "kolla.dbSyncJob" -}}
{{- $bootstrap := ternary .bootstrap (empty .command) (hasKey . "bootstrap") -}}
{{- include "kolla.job" (dict "root" .root "name" (.name | default (printf "%s-db-sync" .root.Chart.Name)) "component" "db-sync" "phase" "db-sync" "weight" .weight "image" .image "command" (.command | default (list "kolla_start")) "kolla" true "serviceName" .serviceName "bootstrap" $bootstrap "configMap" .configMap "checksumTemplates" .checksumTemplates "env" .env) -}}
{{- end -}}

{{/*
ks-register: registers a service in Keystone, idempotently, with the kolla-toolbox openstack CLI:
the service (show || create), its internal/admin/public endpoints in global.region (created, or
their URL updated), and optionally the service user in project "service" with roles.
Takes: dict "root" $
  "serviceName" "glance"  "serviceType" "image"  "description" "OpenStack Image"
  "service" "glance-api" "port" 9292 ["path" "/v2.1/%(tenant_id)s"]   (endpoint URLs, contracts §6)
  ["user" "glance" "passwordKey" "glance_keystone_password"]  (no user when empty)
  ["roles" (list "admin" "service")]
  ["name" "<chart>-ks-register"] ["weight" (hook weight, default the phase's)]
*/}}
{{- define "kolla.ksRegisterJob" -}}
{{- $ep := dict "root" .root "service" .service "port" .port "path" (.path | default "") -}}
{{- $plain := list
  (dict "name" "SVC_NAME" "value" .serviceName)
  (dict "name" "SVC_TYPE" "value" .serviceType)
  (dict "name" "SVC_DESCRIPTION" "value" (.description | default .serviceName))
  (dict "name" "URL_INTERNAL" "value" (include "kolla.endpoint.internal" $ep))
  (dict "name" "URL_ADMIN" "value" (include "kolla.endpoint.internal" $ep))
  (dict "name" "URL_PUBLIC" "value" (include "kolla.endpoint.public" $ep))
  (dict "name" "SVC_USER" "value" (.user | default ""))
  (dict "name" "SVC_ROLES" "value" (join " " (.roles | default (list "admin" "service")))) -}}
{{- $env := include "kolla.openstackAdminEnv" .root -}}
{{- if .user -}}
{{- $env = print $env "\n" (include "kolla.secretEnv" (dict "root" .root "vars" (dict "SVC_PASSWORD" (required "kolla.ksRegisterJob: passwordKey is required with user" .passwordKey)))) -}}
{{- end -}}
{{- $env = print $env "\n" (toYaml $plain) -}}
{{- $script := `set -eu
for i in $(seq 1 60); do
  openstack token issue -f value -c id >/dev/null 2>&1 && break
  echo "waiting for keystone"; sleep 5
done
openstack service show "$SVC_NAME" -f value -c id >/dev/null 2>&1 || \
  openstack service create --name "$SVC_NAME" --description "$SVC_DESCRIPTION" "$SVC_TYPE"
svc_id=$(openstack service show "$SVC_NAME" -f value -c id)
for iface in internal admin public; do
  case $iface in internal) url=$URL_INTERNAL;; admin) url=$URL_ADMIN;; public) url=$URL_PUBLIC;; esac
  ep_id=$(openstack endpoint list --service "$svc_id" --interface "$iface" --region "$OS_REGION_NAME" -f value -c ID | head -n 1)
  if [ -z "$ep_id" ]; then
    openstack endpoint create --region "$OS_REGION_NAME" "$svc_id" "$iface" "$url"
  else
    openstack endpoint set --url "$url" "$ep_id"
  fi
done
if [ -n "$SVC_USER" ]; then
  openstack project create --or-show --domain default --description "Service project" service >/dev/null
  openstack user create --or-show --domain default --password "$SVC_PASSWORD" "$SVC_USER" >/dev/null
  openstack user set --password "$SVC_PASSWORD" "$SVC_USER"
  for role in $SVC_ROLES; do
    openstack role create --or-show "$role" >/dev/null
    openstack role add --project service --user "$SVC_USER" "$role"
  done
fi
echo "service $SVC_NAME registered"
` -}}
{{- include "kolla.job" (dict "root" .root "name" (.name | default (printf "%s-ks-register" .root.Chart.Name)) "component" "ks-register" "phase" "ks-register" "weight" .weight "image" (include "kolla.toolboxImage" .root | fromYaml) "command" (list "bash" "-c" $script) "env" $env) -}}
{{- end -}}

{{/*
rabbit-init: creates a RabbitMQ vhost and user with full permissions on it, idempotently, through
the management HTTP API (PUT is create-or-update), authenticating as the deployment's
"openstack" user (Secret key rabbitmq_password). kolla-toolbox image, python3 urllib.
Takes: dict "root" $ "user" "nova" "passwordKey" "nova_rabbitmq_password" ["vhost" "/"]
       ["name" "<chart>-rabbit-init"] ["weight" (hook weight, default the phase's)]
*/}}
{{- define "kolla.rabbitInitJob" -}}
{{- $ep := ((.root.Values.endpoints | default dict).messaging | default dict) -}}
{{- $env := include "kolla.secretEnv" (dict "root" .root "vars" (dict "RABBIT_ADMIN_PASSWORD" "rabbitmq_password" "RABBIT_USER_PASSWORD" (required "kolla.rabbitInitJob: passwordKey is required" .passwordKey))) -}}
{{- $plain := list
  (dict "name" "RABBIT_API" "value" (printf "http://%s:%v/api" ($ep.host | default "rabbitmq") ($ep.managementPort | default 15672)))
  (dict "name" "RABBIT_ADMIN_USER" "value" "openstack")
  (dict "name" "RABBIT_USER" "value" (required "kolla.rabbitInitJob: user is required" .user))
  (dict "name" "RABBIT_VHOST" "value" (.vhost | default "/")) -}}
{{- $env = print $env "\n" (toYaml $plain) -}}
{{- $script := `import base64, json, os, sys, time, urllib.parse, urllib.request

api = os.environ["RABBIT_API"]
auth = base64.b64encode(("%s:%s" % (os.environ["RABBIT_ADMIN_USER"],
                                    os.environ["RABBIT_ADMIN_PASSWORD"])).encode()).decode()

def put(path, body):
    req = urllib.request.Request(api + path, data=json.dumps(body).encode(), method="PUT",
                                 headers={"Authorization": "Basic " + auth,
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status

user = os.environ["RABBIT_USER"]
vhost = urllib.parse.quote(os.environ["RABBIT_VHOST"], safe="")
for attempt in range(60):
    try:
        put("/vhosts/" + vhost, {})
        break
    except OSError as e:
        print("waiting for rabbitmq: %s" % e, flush=True)
        time.sleep(5)
else:
    sys.exit("rabbitmq not reachable")
put("/users/" + urllib.parse.quote(user, safe=""),
    {"password": os.environ["RABBIT_USER_PASSWORD"], "tags": ""})
put("/permissions/%s/%s" % (vhost, urllib.parse.quote(user, safe="")),
    {"configure": ".*", "write": ".*", "read": ".*"})
print("rabbitmq user %s ready" % user, flush=True)
` -}}
{{- include "kolla.job" (dict "root" .root "name" (.name | default (printf "%s-rabbit-init" .root.Chart.Name)) "component" "rabbit-init" "phase" "rabbit-init" "weight" .weight "image" (include "kolla.toolboxImage" .root | fromYaml) "command" (list "python3" "-c" $script) "env" $env) -}}
{{- end -}}

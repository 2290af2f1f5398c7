#!/bin/bash
# Writes the definitions (the openstack user, vhost "/", its permissions) from the environment,
# so that the password never lands in a ConfigMap, then starts the server.
set -o errexit
escape() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }
umask 077
cat > /var/lib/rabbitmq/definitions.json <<JSON
{
  "vhosts": [{"name": "/"}],
  "users": [{"name": "$(escape "$RABBITMQ_USER")", "password": "$(escape "$RABBITMQ_PASSWORD")", "tags": ["administrator"]}],
  "permissions": [{"user": "$(escape "$RABBITMQ_USER")", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}]
}
JSON
exec /usr/sbin/rabbitmq-server

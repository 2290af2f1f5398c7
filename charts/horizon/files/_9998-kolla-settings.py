import os

DEBUG = {{ .Values.conf.debug | ternary "True" "False" }}
TEMPLATE_DEBUG = DEBUG
COMPRESS_OFFLINE = True
WEBROOT = '/'
ALLOWED_HOSTS = ['*']

SESSION_ENGINE = 'django.contrib.sessions.backends.cache'
CACHES = {
    'default': {
        'BACKEND': 'django.core.cache.backends.memcached.PyMemcacheCache',
        'LOCATION': ['{{ include "kolla.memcacheServers" . }}'],
        'OPTIONS': {'ignore_exc': True},
    },
}

OPENSTACK_API_VERSIONS = {
    "identity": 3,
}

LOCAL_PATH = '/tmp'
# From the passwords Secret (key horizon_secret_key) through the environment.
SECRET_KEY = os.environ['HORIZON_SECRET_KEY']

EMAIL_BACKEND = 'django.core.mail.backends.console.EmailBackend'

OPENSTACK_HOST = "{{ include "kolla.serviceHost" (dict "root" . "service" "keystone-api") }}"
OPENSTACK_KEYSTONE_URL = "{{ include "kolla.keystoneAuthUrl" . }}/v3"
OPENSTACK_KEYSTONE_DEFAULT_ROLE = "{{ .Values.conf.defaultUserRole }}"
OPENSTACK_KEYSTONE_MULTIDOMAIN_SUPPORT = False

OPENSTACK_KEYSTONE_BACKEND = {
    'name': 'native',
    'can_edit_user': True,
    'can_edit_group': True,
    'can_edit_project': True,
    'can_edit_domain': True,
    'can_edit_role': True,
}

OPENSTACK_HYPERVISOR_FEATURES = {
    'can_set_mount_point': False,
    'can_set_password': False,
    'requires_keypair': False,
    'enable_quotas': True,
}

OPENSTACK_NEUTRON_NETWORK = {
    'enable_router': True,
    'enable_quotas': True,
    'enable_ipv6': True,
    'enable_distributed_router': False,
    'enable_ha_router': False,
    'enable_fip_topology_check': True,
    'supported_vnic_types': ['*'],
}

OPENSTACK_HEAT_STACK = {
    'enable_user_pass': True,
}

HORIZON_IMAGES_UPLOAD_MODE = 'direct'
OPENSTACK_ENDPOINT_TYPE = "internalURL"
API_RESULT_LIMIT = 1000
API_RESULT_PAGE_SIZE = 20
DROPDOWN_MAX_ITEMS = 30
TIME_ZONE = "{{ .Values.conf.timeZone }}"
POLICY_FILES_PATH = '/etc/openstack-dashboard'

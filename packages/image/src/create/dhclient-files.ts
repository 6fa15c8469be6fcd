/**
 * The three files `image create --type oci` adds to the deployment's `/etc` so that an OCI
 * instance names itself from the instance metadata service when NetworkManager brings a link up.
 * Written for this project from the behaviour of upstream's files (what runs when, which endpoints
 * and files are read and written); none of upstream's text is used.
 */

/** Where each file goes, relative to the deployment, and its content. */
export interface DeploymentFile {
  readonly path: string;
  readonly content: string;
}

/** NetworkManager dispatcher: runs the dhclient.d hooks on up, dhcp4-change (time sync only) and down. */
const DISPATCHER = `#!/bin/bash
# NetworkManager dispatcher hook: runs the dhclient.d hooks (dhclient's convention) for
# connections NetworkManager manages with its internal DHCP client.
# $1 is the interface, $2 the action.

interface="$1"
action="$2"

# dhclient hooks read new_* variables; NetworkManager exports DHCP4_* ones.
while IFS='=' read -r name value; do
	case "$name" in
	DHCP4_*)
		key="$(printf '%s' "\${name#DHCP4_}" | tr '[:upper:]' '[:lower:]')"
		export "new_\${key}=\${value}"
		;;
	esac
done < <(env)

[ -r /etc/sysconfig/network ] && . /etc/sysconfig/network
[ -n "$interface" ] && [ -r "/etc/sysconfig/network-scripts/ifcfg-$interface" ] &&
	. "/etc/sysconfig/network-scripts/ifcfg-$interface"

for hook in /etc/dhcp/dhclient.d/*.sh; do
	[ -x "$hook" ] || continue
	name="$(basename "$hook" .sh)"
	. "$hook"
	case "$action" in
	up)
		"\${name}_config" ;;
	dhcp4-change)
		# A lease change only matters to the time-sync hooks.
		case "$name" in
		chrony | ntp) "\${name}_config" ;;
		esac
		;;
	down)
		"\${name}_restore" ;;
	esac
done
exit 0
`;

/** dhclient.d hook: configure on up, nothing to undo on down. */
const HOOK = `#!/bin/bash
# dhclient.d hook for Oracle Cloud: hostname, /etc/hosts and DNS search domains from the
# instance metadata service.
oci_config() {
	/etc/oci-dhclient.sh || :
}

oci_restore() {
	:
}
`;

/** The worker: instance metadata to hostname, /etc/hosts and resolv.conf search domains. */
const WORKER = `#!/bin/bash
# Names this Oracle Cloud instance from its metadata (IMDS v2):
#   the primary VNIC's private IP and the instance's hostname, then the FQDN from DNS;
#   sets the hostname, the /etc/hosts line "<ip> <fqdn> <short>", and the search domains
#   "<subnet>.<vcn>.oraclevcn.com <vcn>.oraclevcn.com" in resolv.conf.
# /etc/oci-hostname.conf may set PRESERVE_HOSTINFO:
#   0 (default) update everything; 1 keep the hostname; 2 keep the hostname and /etc/hosts;
#   3 change nothing.

PRESERVE_HOSTINFO=0
[ -r /etc/oci-hostname.conf ] && . /etc/oci-hostname.conf
case "$PRESERVE_HOSTINFO" in 0 | 1 | 2 | 3) ;; *) PRESERVE_HOSTINFO=0 ;; esac
[ "$PRESERVE_HOSTINFO" -eq 3 ] && exit 0

imds() {
	curl -sf --max-time 5 -H 'Authorization: Bearer Oracle' "http://169.254.169.254/opc/v2/$1"
}

# The first "field": "value" pair of a JSON document, without a JSON parser on the host.
json_field() {
	sed -n "s/.*\\"$1\\"[[:space:]]*:[[:space:]]*\\"\\([^\\"]*\\)\\".*/\\1/p" | head -n 1
}

ip="$(imds vnics/ | tr ',' '\\n' | json_field privateIp)"
short="$(imds instance/ | tr ',' '\\n' | json_field hostname)"
[ -n "$ip" ] && [ -n "$short" ] || exit 0

fqdn=""
if command -v host >/dev/null 2>&1; then
	fqdn="$(host "$ip" 2>/dev/null | awk '/domain name pointer/ { sub(/\\.$/, "", $NF); print $NF; exit }')"
fi
if [ -z "$fqdn" ] && command -v ipcalc >/dev/null 2>&1; then
	fqdn="$(ipcalc -h "$ip" 2>/dev/null | sed -n 's/^HOSTNAME=//p')"
fi
[ -n "$fqdn" ] || fqdn="$short"

if [ "$PRESERVE_HOSTINFO" -lt 1 ]; then
	if command -v nmcli >/dev/null 2>&1; then
		nmcli general hostname "$fqdn"
	else
		hostnamectl set-hostname "$fqdn"
	fi
fi

if [ "$PRESERVE_HOSTINFO" -lt 2 ]; then
	entry="$ip $fqdn $short"
	if ! grep -qxF "$entry" /etc/hosts; then
		grep -vE "^$ip[[:space:]]|[[:space:]]$fqdn([[:space:]]|\\$)" /etc/hosts > /etc/hosts.oci-new || :
		printf '%s\\n' "$entry" >> /etc/hosts.oci-new
		cat /etc/hosts.oci-new > /etc/hosts
		rm -f /etc/hosts.oci-new
	fi
fi

# Search domains: the FQDN without the host label, and without the subnet label too.
subnet_domain="\${fqdn#*.}"
vcn_domain="\${subnet_domain#*.}"
if [ "$subnet_domain" != "$fqdn" ] && [ "$vcn_domain" != "$subnet_domain" ]; then
	# NetworkManager must leave resolv.conf to this script from now on.
	mkdir -p /run/NetworkManager/conf.d
	printf '[main]\\ndns = none\\n' > /run/NetworkManager/conf.d/10-oci-dhclient.conf
	search="search $subnet_domain $vcn_domain"
	if grep -q '^search ' /etc/resolv.conf 2>/dev/null; then
		sed -i "s/^search .*/$search/" /etc/resolv.conf
	else
		printf '%s\\n' "$search" >> /etc/resolv.conf
	fi
fi
exit 0
`;

/** The three files, at the paths upstream writes them to (relative to the deployment). */
export const OCI_DHCLIENT_FILES: readonly DeploymentFile[] = [
  { path: 'etc/oci-dhclient.sh', content: WORKER },
  { path: 'etc/dhcp/dhclient.d/oci.sh', content: HOOK },
  { path: 'etc/NetworkManager/dispatcher.d/11-dhclient', content: DISPATCHER },
];

#!/bin/sh
# make-cert.sh [NAME...] -- a private CA and a server certificate for the
# https example, in certs/ next to this script: ca.pem (give it to clients:
# curl --cacert), server.pem and server.key (baked into the image).
# Names default to localhost; the certificate is valid for 30 days.
set -eu
cd "$(dirname "$0")"
mkdir -p certs
cd certs
[ $# -gt 0 ] || set -- localhost
san="DNS:$1"; shift
for n in "$@"; do san="$san,DNS:$n"; done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -out ca.pem -days 30 -subj "/CN=lunik example CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout server.key -out server.csr -subj "/CN=${san#DNS:}" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
	-out server.pem -days 30 -extfile server.ext 2>/dev/null
rm -f server.csr server.ext ca.srl
echo "certs/: ca.pem (for clients), server.pem and server.key (for the image), for $san"

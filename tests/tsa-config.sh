# tsa-config.sh - sourced: tsa_config DIR writes DIR/tsa.cnf and
# DIR/serial, the OpenSSL configuration of a throw-away RFC 3161
# timestamp authority (CA and TSA certificate extensions, 'openssl ts'
# reply settings), for tests/cli/t_timestamp.sh and tests/fuzz/mkseeds.sh.
tsa_config() {
    cat > "$1/tsa.cnf" <<CNF
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = test
[ v3_ca ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
[ v3_tsa ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = $1/serial
signer_digest = sha256
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.2
digests = sha256
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
    echo 01 > "$1/serial"
}

---@meta
-- LuaLS definitions of labrun's PKI host API (`labrun.pki`) and of
-- `lab:file`, for editors. Nothing here runs.

---@alias KeyKind "rsa-2048"|"rsa-3072"|"rsa-4096"|"ecdsa-p256"|"ed25519"
---@alias KeyUsage "digital-signature"|"content-commitment"|"key-encipherment"|"data-encipherment"|"key-agreement"|"cert-sign"|"crl-sign"|"encipher-only"|"decipher-only"
---@alias ExtendedKeyUsage "server"|"client"|"any"|"code-signing"|"email-protection"|"time-stamping"|"ocsp-signing"

---A certificate (and its key, of the same name) as data. Missing fields take kubeadm's defaults.
---@class CertSpec
---@field cn string Subject common name (a Kubernetes user name).
---@field o? string[] Subject organizations (Kubernetes groups), in order.
---@field key? KeyKind Kind of the certificate's key (default "rsa-2048").
---@field dns? string[] DNS subject alternative names.
---@field ips? string[] IP subject alternative names.
---@field usages? KeyUsage[] Key usages (default digital-signature and key-encipherment, plus cert-sign for a CA).
---@field ekus? ExtendedKeyUsage[] Extended key usages.
---@field ca? boolean Whether this is a CA.
---@field path_len? integer Path length constraint of a CA.
---@field days? integer Days of validity (default 3650 for a CA, 365 otherwise).
---@field not_before? integer Start of validity in Unix seconds (default five minutes ago).
---@field issuer? string Name of the issuing CA in the same set; none for self-signed.

---The PKI a lab declares: bare keys and certificates, by name.
---@class SetSpec
---@field keys? table<string, KeyKind> Bare key pairs, e.g. `sa = "rsa-2048"`.
---@field certs? table<string, CertSpec> Certificates, e.g. `["etcd/ca"] = { ... }`.

---One made entry. A certificate has `cert`, `key` and its `fingerprint`; a bare key has `key`,
---`public` and the fingerprint of its public key. Fingerprints are `sha256:<hex>` of the DER.
---@class PkiEntry
---@field cert? string The certificate, PEM.
---@field key string The private key, PKCS#8 PEM. Keep it out of logs and outputs.
---@field public? string The public key, PEM (bare keys only, e.g. sa.pub).
---@field fingerprint string
---@field public_fingerprint string `sha256:<hex>` of the public key's DER (kubeadm's discovery CA hash).

---A random string made once and kept in the lab's secrets (a bootstrap token, a
---password): the same on every later load. Never printed by labrun.
---@param name string
---@param opts? { length?: integer, chars?: string } default 16 of "a-z0-9"
---@return string
function labrun.secret(name, opts) end

---@class KubeconfigSpec
---@field cluster? string Cluster name (default "kubernetes").
---@field server string API server URL, e.g. "https://api.kubelius:6443".
---@field proxy_url? string The proxy clients reach it through, e.g. labrun.ssh.proxy_url().
---@field ca string|string[] The CA certificate(s) the client trusts the server by, PEM.
---@field user string User name, e.g. "kubernetes-admin".
---@field context? string Context name (default "USER@CLUSTER").
---@field cert string The client certificate, PEM.
---@field key string Its private key, PEM.

labrun.pki = {}

---Makes the lab's keys and certificates, or reuses those kept with the lab (its
---`secrets.json`, 0600): a key is reused while its kind is unchanged; a certificate while its
---key and issuer were reused, it says what is asked and has not expired. Only what is missing
---is made, keys in parallel. `--renew-pki` on up, plan and render makes all anew. A lab may
---call it more than once with different names; call `labrun.lab` first.
---@param spec SetSpec
---@return table<string, PkiEntry> entries by name
function labrun.pki.set(spec) end

---A kubeconfig (YAML) with one cluster, user and context, certificates and key embedded.
---@param spec KubeconfigSpec
---@return string
function labrun.pki.kubeconfig(spec) end

---@class FileOptions
---@field mode? string|integer Permission bits: an octal string like "0600" (default "0644").

---@class Lab
local Lab = {}

---Declares a file the lab generates (a certificate, a kubeconfig, a manifest), which
---`labrun render LAB DIR` writes as DIR/PATH with its mode, and `labrun up` into `files/`
---of the lab's private folder (after apply, so a DeferredString is known;
---a file already right is not rewritten). PATH is relative, with `/`
---separators and no `.` or `..` parts; each is declared once.
---@param path string
---@param contents string|DeferredString
---@param opts? FileOptions
function Lab:file(path, contents, opts) end

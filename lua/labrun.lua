---@meta
-- LuaLS definitions of labrun's host API (the `labrun` global) for editors.
-- Add this folder to `workspace.library` in .luarc.json.

---@class labrun
labrun = {}

---@class LabOptions
---@field name string   lab name: a-z, 0-9, - and _, starting with a letter
---@field region? string AWS region (default "us-east-1")

---A reference to an attribute of a resource, resolved by the engine at apply time.
---`..` with text (or `labrun.template` with it among the values) gives a
---DeferredString.
---@class AttrRef

---Text known only after apply, e.g. `"https://" .. lb.dns_name .. ":6443"`.
---Usable in resource properties (the resource then waits for what it
---names), `lab:output`, `lab:file` contents and `labrun.ssh.node` hosts.
---@class DeferredString

---A declared resource. Pass it (or one of its attributes) in another resource's
---properties to make a dependency. Literal properties read back as values.
---@class Handle
---@field address string  `kind.name`
---@field name string
---@field kind string
---@field id AttrRef      the cloud ID, known after creation

---@class Lab
---@field name string
---@field region string
local Lab = {}

---@class VpcProps
---@field cidr string             IPv4 block, e.g. "10.10.16.0/20"
---@field dns_hostnames? boolean  default true (in place)
---@field dns_support? boolean    default true (in place)
---@field depends_on? Handle[]

---@param name string
---@param props VpcProps
---@return Handle # attributes: id, cidr
function Lab:vpc(name, props) end

---@class SubnetProps
---@field vpc Handle
---@field cidr string      inside the VPC's block
---@field az? string       availability zone (default: AWS picks)
---@field public? boolean  public IPv4 addresses at launch (in place)
---@field depends_on? Handle[]

---@param name string
---@param props SubnetProps
---@return Handle # attributes: id, cidr, az
function Lab:subnet(name, props) end

---@param name string
---@param props { vpc: Handle, depends_on?: Handle[] }
---@return Handle # attributes: id
function Lab:internet_gateway(name, props) end

---@class Route
---@field cidr string
---@field gateway? Handle            an internet_gateway
---@field network_interface? Handle  e.g. a NAT instance's interface

---@param name string
---@param props { vpc: Handle, routes?: Route[], subnets?: Handle[], depends_on?: Handle[] }
---@return Handle # routes and subnets update in place
function Lab:route_table(name, props) end

---@class Rule
---@field protocol? "tcp"|"udp"|"icmp"|"all"  default "tcp"
---@field port? integer
---@field from_port? integer
---@field to_port? integer
---@field cidr? string|AttrRef
---@field source? Handle   another security group
---@field description? string

---@param name string
---@param props { vpc: Handle, description?: string, ingress?: Rule[], egress?: Rule[], depends_on?: Handle[] }
---@return Handle # without egress, all outbound traffic is allowed; rules update in place
function Lab:security_group(name, props) end

---@param name string
---@param props { subnet: Handle, private_ip?: string, security_groups?: Handle[], source_dest_check?: boolean, description?: string, depends_on?: Handle[] }
---@return Handle # attributes: id, private_ip
function Lab:network_interface(name, props) end

---@param name string
---@param props { network_interface?: Handle, instance?: Handle, depends_on?: Handle[] }
---@return Handle # attributes: id (allocation), public_ip
function Lab:elastic_ip(name, props) end

---@param name string
---@param props { public_key: string, depends_on?: Handle[] }
---@return Handle # attributes: id, key_name, fingerprint
function Lab:key_pair(name, props) end

---@class ImageLookup
---@field name string           name pattern, e.g. "fedora-coreos-*-x86_64"
---@field owner? string         account ID
---@field architecture? "x86_64"|"arm64"
---@field description? string  pattern

---@class InstanceProps
---@field image string|ImageLookup  AMI ID, or looked up at apply time (newest match)
---@field type string                e.g. "t4g.nano" (in place: stop, modify, start)
---@field subnet? Handle
---@field network_interface? Handle  primary interface (then no subnet)
---@field private_ip? string
---@field security_groups? Handle[]
---@field public_ip? boolean
---@field user_data? string|DeferredString  e.g. Ignition JSON (a change replaces the instance)
---@field user_data_expires? integer  seconds the presigned URL of user data served from S3 stays valid (default 3600)
---@field key_pair? string|AttrRef   key pair name
---@field root_volume_size? integer  GB, gp3
---@field shutdown_behavior? "stop"|"terminate"
---@field spot? boolean
---@field depends_on? Handle[]

---@param name string
---@param props InstanceProps
---@return Handle # attributes: id, private_ip, public_ip, image_id, az
function Lab:instance(name, props) end

---@param name string
---@param props { depends_on?: Handle[] }
---@return Handle # a private bucket; labrun declares one for user data over 16 KB
function Lab:s3_bucket(name, props) end

---@param name string
---@param props { bucket: Handle, key: string, content: string, depends_on?: Handle[] }
---@return Handle # emptied and deleted by `down`
function Lab:s3_object(name, props) end

---Declares a resource of any kind by name.
---@param kind string
---@param name string
---@param props table
---@return Handle
function Lab:resource(kind, name, props) end

---A reference by address to a resource declared anywhere in the script.
---@param address string  `kind.name`
---@return AttrRef
function Lab:ref(address) end

---A value shown after `up` and kept in the state.
---@param name string
---@param value any
function Lab:output(name, value) end


---Declares the lab. A script declares exactly one.
---@param opts LabOptions
---@return Lab
function labrun.lab(opts) end

---A lab variable set with `--var name=value`; it takes the type of `default`.
---@generic T
---@param name string
---@param default T
---@return T
function labrun.var(name, default) end

---`${name}` substitution; an undefined name is an error. `$${` is a literal `${`.
---A value known only after apply (an AttrRef) makes the result a DeferredString.
---@param text string
---@param vars table<string, string|number|boolean|AttrRef|DeferredString>
---@return string|DeferredString
function labrun.template(text, vars) end

---Indents every line but the first by `n` spaces.
---@param n integer
---@param text string
---@return string
function labrun.indent(n, text) end

---Reads a file relative to the lab script's folder.
---@param path string
---@return string
function labrun.file(path) end

labrun.json = {}
---@param value any
---@return string
function labrun.json.encode(value) end
---@param text string
---@return any
function labrun.json.decode(text) end

---@class Live
---@field lab string
---@field nodes table<string, SshNode>      every node declared with labrun.ssh.node
---@field attrs table<string, table>        attributes (and `id`) by resource address
---@field outputs table<string, any>

---@class StepOptions
---@field after? string|string[]  steps that must finish first (declared before this one)
---@field timeout? number         seconds before the step counts as failed (default 600)

---A step run after `up`, with live attributes and SSH access to the nodes.
---Steps that do not wait for each other run at the same time. Each finished
---step is recorded; after a change to the lab all run again, and after a
---failure only those that did not finish.
---@param name string
---@param fn fun(live: Live)
---@param opts? StepOptions
function labrun.after_up(name, fn, opts) end

---Runs functions at the same time (e.g. one per node) and returns their
---results in order; fails naming every task that failed.
---@param tasks (fun(): any)[]
---@return any[]
function labrun.parallel(tasks) end

---Waits without holding up other steps.
---@param seconds number
function labrun.sleep(seconds) end

---Refuses options a helper does not know, naming the nearest known one and
---the lab script's line (for stdlib and lab helpers).
---@param what string    the helper's name, e.g. "coreos.config"
---@param opts table|nil
---@param known string[]
function labrun.options(what, opts, known) end

---@meta
-- LuaLS definitions of labrun's host API (the `labrun` global) for editors.
-- Add this folder to `workspace.library` in .luarc.json.

---@class labrun
labrun = {}

---@class LabOptions
---@field name string   lab name: a-z, 0-9, - and _, starting with a letter
---@field region? string AWS region (default "us-east-1")
---@field ttl? string|integer time to live, e.g. "4h" or seconds: instances terminate (shutdown_behavior) and the
---stdlib's coreos configs power them off at the expiry; `labrun up --ttl` overrides it with a fresh expiry

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
---@field user_data_expires? integer  seconds the presigned URL of user data served from S3 stays valid (default 900)
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

---@class SubnetMapping
---@field subnet Handle
---@field private_ip? string  fixed address in the subnet, internal only (default: AWS picks)

---@class LoadBalancerProps
---@field subnets SubnetMapping[]  at most one subnet per availability zone
---@field scheme? "internal"|"internet-facing"  default "internal"
---@field security_groups? Handle[]  an NLB created without any can never have some
---@field depends_on? Handle[]

---A network load balancer ($0.0225/h before capacity units, plus $0.005/h per
---subnet when internet-facing). `up` waits until it is active; `down` waits
---until AWS has removed its network interfaces.
---@param name string
---@param props LoadBalancerProps
---@return Handle # attributes: id (the ARN), dns_name, zone_id
function Lab:load_balancer(name, props) end

---@class Target
---@field ip string|AttrRef  private address inside the VPC, e.g. an instance's private_ip
---@field port? integer      default: the group's port

---@class HealthCheck
---@field port? integer                 default: each target's traffic port
---@field interval? integer             seconds, 5-300 (default 30)
---@field timeout? integer              seconds, 2-120, at most the interval (default 10)
---@field healthy_threshold? integer    2-10 (default 5)
---@field unhealthy_threshold? integer  2-10 (default 2)

---@class TargetGroupProps
---@field vpc Handle
---@field port integer              where traffic goes
---@field targets? Target[]         registered and deregistered in place
---@field health_check? HealthCheck TCP health check (in place)
---@field depends_on? Handle[]

---A TCP target group of IP targets.
---@param name string
---@param props TargetGroupProps
---@return Handle # attributes: id (the ARN)
function Lab:target_group(name, props) end

---@class ListenerProps
---@field load_balancer Handle
---@field port integer           TCP port (in place)
---@field target_group Handle    where connections go
---@field depends_on? Handle[]

---@param name string
---@param props ListenerProps
---@return Handle # attributes: id (the ARN)
function Lab:listener(name, props) end

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

---The declared lab's time to live and its expiry (Unix seconds), fixed when
---the lab comes up and kept while it is up; nil without a ttl.
---@return { ttl: integer, at: integer }|nil
function labrun.expiry() end

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

---This machine's public IPv4 address as a /32, as https://checkip.amazonaws.com
---sees it (asked once per run): what `ssh_from = "auto"` opens SSH to.
---@return string
function labrun.public_address() end

---Pins a value in the lab's lock (`lock.json`, kept across `down`) the first
---time and returns the pinned value ever after, so a lab rebuilt later runs
---the same software; `labrun up --upgrade` pins what the script gives now.
---@generic T
---@param name string
---@param value T
---@return T
function labrun.pin(name, value) end

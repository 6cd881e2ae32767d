#!/usr/bin/env python3
"""Generates lua/azrp/schema.lua: for each registry operation, the tree of
body keys Azure accepts and the allowed $expand values.

    python3 tools/gen_schema.py [SPECS_DIR] > lua/azrp/schema.lua

SPECS_DIR (default /work/shared/azure-specs) is a copy of files of
Azure/azure-rest-api-specs (see its SOURCES.md).  The sources, per provider:

* DiskRP (disks, snapshots, disk restore points): the complete swagger
  DiskRP.json 2026-03-02, every property (read-only ones too, so that a GET
  body can be sent back), unioned with the stored examples.
* ComputeRP (restore point collections, restore points, VMs, images) and
  GalleryRP: their swagger is not stored, so the trees are the union of the
  stored examples' request bodies and of the response bodies of the same
  resource (round-tripped GET bodies), plus the properties that
  ../reference/api-reference.md lists (transcribed below in REFERENCE, with
  its section numbers), on the ARM envelope of common-types v3 types.json
  (TrackedResource / ProxyResource).
* Galleries, gallery images and image versions (GalleryRP 2025-03-03),
  resource groups (Resources 2021-04-01), virtual networks, subnets, NICs
  and NSGs (Network 2024-05-01): their OpenAPI definitions transcribed in
  tools/schema_upstream.py (the files are not in SPECS_DIR), unioned with
  the stored examples.  VirtualMachines_Update: the keys of a VM body that
  ComputeRP's VirtualMachineUpdate takes.
* Operations none of these describe are left out: no checking.

Subtrees that occur more than once (a managed disk reference, an instance
view status, a security rule) are emitted once, as locals named after the
key they appear under, and referenced from every place they occur.

Tree nodes in the output: `true` = any value; a table = an object whose keys
are listed, where `["*"] = true` marks it open (other keys allowed,
unchecked) and `["[]"] = <node>` marks an array whose items are <node>.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import schema_upstream as upstream  # noqa: E402

SPECS = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/azure-specs"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MSC = os.path.join(SPECS, "specification/compute/resource-manager/Microsoft.Compute")
DISKRP = os.path.join(MSC, "Compute/stable/2026-03-02/DiskRP.json")
TYPES = os.path.join(SPECS, "specification/common-types/resource-management/v3/types.json")

# ---------------------------------------------------------------------------
# nodes: {"t": "any"} (nothing known), {"t": "leaf"} (any value),
# {"t": "obj", "keys": {...}, "mode": m}, {"t": "arr", "item": node}.
# An object's mode: "closed" (a schema lists its keys), "open" (free-form:
# any key) or "partial" (keys seen in examples, which never show them all).
# ---------------------------------------------------------------------------

ANY = {"t": "any"}
LEAF = {"t": "leaf"}


def obj(keys=None, mode="closed"):
    return {"t": "obj", "keys": dict(keys or {}), "mode": mode}


def union_mode(a, b):
    for m in ("open", "closed"):
        if m in (a, b):
            return m
    return "partial"


def arr(item):
    return {"t": "arr", "item": item}


def merge(a, b):
    """The union of two nodes: what either accepts, the other accepts too."""
    if a["t"] == "any":
        return b
    if b["t"] == "any":
        return a
    if a["t"] == "obj" and b["t"] == "obj":
        keys = dict(a["keys"])
        for k, v in b["keys"].items():
            keys[k] = merge(keys[k], v) if k in keys else v
        return obj(keys, union_mode(a["mode"], b["mode"]))
    if a["t"] == "arr" and b["t"] == "arr":
        return arr(merge(a["item"], b["item"]))
    return LEAF


# Example maps whose keys are data, not schema.
FREE_FORM = {"tags", "settings", "protectedSettings", "userAssignedIdentities"}


def from_example(v, key=None):
    if key in FREE_FORM and isinstance(v, dict):
        return obj(mode="open")
    if isinstance(v, dict):
        return obj({k: from_example(x, k) for k, x in v.items()}, "partial")
    if isinstance(v, list):
        item = ANY
        for x in v:
            item = merge(item, from_example(x))
        return arr(item)
    if v is None:
        return ANY
    return LEAF


# ---------------------------------------------------------------------------
# swagger
# ---------------------------------------------------------------------------

_files = {}


def load(path):
    path = os.path.realpath(path)
    if path not in _files:
        with open(path) as f:
            _files[path] = json.load(f)
    return path, _files[path]


def resolve(ref, base):
    file, _, pointer = ref.partition("#")
    path = os.path.realpath(os.path.join(os.path.dirname(base), file)) if file else base
    path, doc = load(path)
    node = doc
    for part in pointer.strip("/").split("/"):
        if part:
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, path, path + "#" + pointer


def from_swagger(schema, base, seen=()):
    if "$ref" in schema:
        target, path, key = resolve(schema["$ref"], base)
        if key in seen:
            return LEAF   # a recursive type: accept whatever is below
        return from_swagger(target, path, seen + (key,))
    node = ANY
    for part in schema.get("allOf", []):
        node = merge(node, from_swagger(part, base, seen))
    if schema.get("type") == "array" or "items" in schema:
        return merge(node, arr(from_swagger(schema.get("items", {}), base, seen)))
    props = schema.get("properties")
    extra = schema.get("additionalProperties")
    if props is not None or extra or schema.get("type") == "object":
        keys = {k: from_swagger(v, base, seen) for k, v in (props or {}).items()}
        open_ = bool(extra) or (not keys and node["t"] == "any")
        return merge(node, obj(keys, "open" if open_ else "closed"))
    return node if node["t"] != "any" else LEAF


# ---------------------------------------------------------------------------
# transcribed definitions (tools/schema_upstream.py)
# ---------------------------------------------------------------------------

REFERENCE_NODE = {"t": "obj", "keys": {"id": LEAF}, "mode": "open"}


def def_type(defs, typ, seen):
    if typ == "":
        return LEAF
    if typ == "&":
        return REFERENCE_NODE
    if typ.startswith("{"):
        return obj(mode="open")
    if typ.startswith("["):
        inner = typ[1:-1]
        return arr(def_type(defs, inner, seen) if inner else LEAF)
    return from_defs(defs, typ, seen)


def from_defs(defs, name, seen=()):
    """The tree of definition name: its fields, and those of its @bases."""
    if name == "TrackedResource":
        return envelope("TrackedResource")
    if name not in defs:
        raise KeyError("schema_upstream: no definition " + name)
    if name in seen:
        return LEAF   # a recursive type: accept whatever is below
    seen = seen + (name,)
    node = obj()
    for tok in defs[name].split():
        if tok.startswith("@"):
            node = merge(node, from_defs(defs, tok[1:], seen))
            continue
        key, _, typ = tok.partition(":")
        node["keys"][key] = def_type(defs, typ, seen)
    return node


# ---------------------------------------------------------------------------
# reference paths: "a.b" a leaf, "a[].b" in array items, "a{*}" open object
# ---------------------------------------------------------------------------

def from_paths(paths):
    root = obj()
    for p in paths:
        parts = p.split(".")
        node = root
        for i, part in enumerate(parts):
            m = re.match(r"^([^\[{]+)((?:\[\])*)(\{\*\})?$", part)
            name, depth, open_ = m.group(1), len(m.group(2)) // 2, bool(m.group(3))
            last = i == len(parts) - 1
            node = add_key(node, name, depth, LEAF if last and not open_ else obj(mode="open" if open_ else "closed"))
    return root


def add_key(node, name, depth, inner):
    """Adds node.name (inside depth arrays) and returns the innermost node."""
    holder, key = node["keys"], name
    for _ in range(depth):
        cur = holder.get(key)
        if not cur or cur["t"] != "arr":
            cur = holder[key] = arr(ANY)
        holder, key = cur, "item"
    cur = holder.get(key)
    if cur and cur["t"] == "obj" and inner["t"] == "leaf":
        return cur   # already a container
    holder[key] = inner if not cur or cur["t"] != "obj" else merge(cur, inner)
    return holder[key]


def prefixed(prefix, paths):
    return [prefix + p for p in paths]


# The ARM envelope, from common-types v3 types.json.
def envelope(kind):
    path, doc = load(TYPES)
    return from_swagger(doc["definitions"][kind], path)


# --- api-reference.md, transcribed (section numbers in comments) -----------

# 3.4 InstanceViewStatus / RestorePointInstanceView
STATUS = ["code", "level", "displayStatus", "message", "time"]
RP_INSTANCE_VIEW = (prefixed("diskRestorePoints[].", ["id", "snapshotAccessState", "replicationStatus.completionPercent"]
                             + prefixed("replicationStatus.status.", STATUS))
                    + prefixed("statuses[].", STATUS))
# 3.4 DiskRestorePointAttributes, ManagedDiskParameters (+ 6)
DRP_ATTRS = ["id", "encryption.diskEncryptionSet.id", "encryption.type", "sourceDiskRestorePoint.id"]
MANAGED_DISK = ["id", "storageAccountType", "diskEncryptionSet.id", "securityProfile"]
# 3.4 RestorePointSourceVMOSDisk / DataDisk
RP_DISK = (["name", "caching", "diskSizeGB", "writeAcceleratorEnabled"]
           + prefixed("managedDisk.", MANAGED_DISK) + prefixed("diskRestorePoint.", DRP_ATTRS))
# 3.4 RestorePointSourceMetadata: osProfile and securityProfile are listed
# with "..." (incomplete): open.
SOURCE_METADATA = (["hardwareProfile.vmSize", "hardwareProfile.vmSizeProperties.vCPUsAvailable",
                    "hardwareProfile.vmSizeProperties.vCPUsPerCore",
                    "osProfile{*}.computerName", "osProfile.adminUsername", "osProfile.windowsConfiguration",
                    "osProfile.linuxConfiguration", "osProfile.secrets", "osProfile.allowExtensionOperations",
                    "osProfile.requireGuestProvisionSignal", "osProfile.customData",
                    "diagnosticsProfile.bootDiagnostics.enabled", "diagnosticsProfile.bootDiagnostics.storageUri",
                    "licenseType", "vmId", "location",
                    "securityProfile{*}.uefiSettings.secureBootEnabled", "securityProfile.uefiSettings.vTpmEnabled",
                    "securityProfile.encryptionAtHost", "securityProfile.securityType",
                    "userData", "hyperVGeneration", "storageProfile.diskControllerType"]
                   + prefixed("storageProfile.osDisk.", RP_DISK + ["osType", "encryptionSettings"])
                   + prefixed("storageProfile.dataDisks[].", RP_DISK + ["lun"]))
# 3.1 / 3.4 RestorePointProperties
RESTORE_POINT = prefixed("properties.", [
    "excludeDisks[].id", "provisioningState", "consistencyMode", "timeCreated", "sourceRestorePoint.id",
    "instantAccessDurationMinutes", "instantAccessStatus"]
    + prefixed("sourceMetadata.", SOURCE_METADATA) + prefixed("instanceView.", RP_INSTANCE_VIEW))
# 2.1 RestorePointCollectionProperties
RPC_PROPERTIES = ["properties.source.id", "properties.source.location", "properties.instantAccess",
                  "properties.provisioningState", "properties.restorePointCollectionId"]
RPC = RPC_PROPERTIES + prefixed("properties.restorePoints[].", RESTORE_POINT + ["id", "name", "type"])
# 6 OSDisk, DataDisk (explicit field lists)
VM_OS_DISK = (["osType", "createOption", "caching", "deleteOption", "name", "diskSizeGB", "writeAcceleratorEnabled",
               "diffDiskSettings", "encryptionSettings", "vhd", "image", "storageFaultDomainAlignment"]
              + prefixed("managedDisk.", MANAGED_DISK))
VM_DATA_DISK = (["lun", "createOption", "sourceResource.id", "name", "caching", "diskSizeGB", "toBeDetached",
                 "detachOption", "deleteOption", "writeAcceleratorEnabled", "diskIOPSReadWrite", "diskMBpsReadWrite",
                 "storageFaultDomainAlignment"] + prefixed("managedDisk.", MANAGED_DISK))
# 6 VirtualMachine: the top level is listed in full; `properties`,
# storageProfile, osProfile, networkProfile and securityProfile only in part
# ("..."): open, their known keys still checked.
VM = (["plan", "identity", "zones", "extendedLocation", "placement", "resources", "managedBy", "etag",
       "properties{*}.hardwareProfile.vmSize", "properties.hardwareProfile.vmSizeProperties.vCPUsAvailable",
       "properties.hardwareProfile.vmSizeProperties.vCPUsPerCore",
       "properties.storageProfile{*}.diskControllerType", "properties.storageProfile.imageReference{*}.id",
       "properties.osProfile{*}.computerName", "properties.securityProfile{*}.securityType",
       "properties.networkProfile{*}.networkInterfaces[].id",
       "properties.networkProfile.networkInterfaces[].properties.primary",
       "properties.networkProfile.networkInterfaces[].properties.deleteOption",
       "properties.diagnosticsProfile{*}.bootDiagnostics.enabled",
       "properties.availabilitySet.id", "properties.userData", "properties.vmId", "properties.provisioningState",
       "properties.instanceView", "properties.timeCreated"]
      + prefixed("properties.storageProfile.osDisk.", VM_OS_DISK)
      + prefixed("properties.storageProfile.dataDisks[].", VM_DATA_DISK))
# 6 attachDetachDataDisks
ATTACH_DETACH = (prefixed("dataDisksToAttach[].", ["diskId", "lun", "caching", "deleteOption", "diskEncryptionSet.id",
                                                    "writeAcceleratorEnabled"])
                 + ["dataDisksToDetach[].diskId", "dataDisksToDetach[].detachOption"])
# 7.1 Image
IMAGE_DISK = ["snapshot.id", "managedDisk.id", "blobUri", "caching", "diskSizeGB", "storageAccountType",
              "diskEncryptionSet.id"]
IMAGE = (["extendedLocation", "properties.sourceVirtualMachine.id", "properties.hyperVGeneration",
          "properties.provisioningState", "properties.storageProfile.zoneResilient"]
         + prefixed("properties.storageProfile.osDisk.", IMAGE_DISK + ["osType", "osState"])
         + prefixed("properties.storageProfile.dataDisks[].", IMAGE_DISK + ["lun"]))
# operationId -> (ARM envelope, reference paths) for the ComputeRP and
# GalleryRP write operations.
REFERENCE = {
    "RestorePointCollections_CreateOrUpdate": ("TrackedResource", RPC),                  # 2.1
    "RestorePointCollections_Update": (None, ["tags{*}"] + RPC),                          # 2.2
    "RestorePoints_Create": ("ProxyResource", RESTORE_POINT),                             # 3.1, 3.4
    "VirtualMachines_CreateOrUpdate": ("TrackedResource", VM),                            # 6
    "VirtualMachines_AttachDetachDataDisks": (None, ATTACH_DETACH),                       # 6
    "Images_CreateOrUpdate": ("TrackedResource", IMAGE),                                  # 7.1
}

# $expand values: 2.4 (restorePoints), 3.2 (instanceView), 6 (VM Get).
REFERENCE_EXPAND = {
    "RestorePointCollections_Get": ["restorePoints"],
    "RestorePoints_Get": ["instanceView"],
    "VirtualMachines_Get": ["instanceView", "userData", "resiliencyView"],
}

# The resource GET whose bodies a write operation may send back.
ROUND_TRIP = {
    "RestorePointCollections_CreateOrUpdate": "RestorePointCollections_Get",
    "RestorePoints_Create": "RestorePoints_Get",
    "VirtualMachines_CreateOrUpdate": "VirtualMachines_Get",
    "Images_CreateOrUpdate": "Images_Get",
    "GalleryImageVersions_CreateOrUpdate": "GalleryImageVersions_Get",
    "Disks_CreateOrUpdate": "Disks_Get",
    "Snapshots_CreateOrUpdate": "Snapshots_Get",
}

# Stored examples that do not name their operationId (and are not listed in
# the stored DiskRP.json): from their file names.
EXAMPLE_OPS = {
    "RestorePoint_Copy_BetweenRegions.json": "RestorePoints_Create",
    "RestorePointCollection_CreateOrUpdate.json": "RestorePointCollections_CreateOrUpdate",
    "RestorePointCollection_Update_MaximumSet_Gen.json": "RestorePointCollections_Update",
    "RestorePoint_Delete_MinimumSet_Gen.json": "RestorePoints_Delete",
}

# ---------------------------------------------------------------------------


def registry():
    """(id, has_body, has_expand) for each operation of src/registry.c."""
    with open(os.path.join(ROOT, "src/registry.c")) as f:
        text = f.read()
    ops = []
    for m in re.finditer(r'\{"(\w+_\w+)", "(\w+)",.*?, (NB|OB|RB), \d, \d, (NULL|"[^"]*")(?:, \d+)*\}', text):
        ops.append((m.group(1), m.group(3) != "NB", "$expand" in m.group(4)))
    return ops


def diskrp_ops():
    path, doc = load(DISKRP)
    ops, example_ops = {}, {}
    for methods in doc["paths"].values():
        for o in methods.values():
            if not isinstance(o, dict) or "operationId" not in o:
                continue
            ops[o["operationId"]] = o
            for ex in o.get("x-ms-examples", {}).values():
                example_ops[os.path.basename(ex["$ref"])] = o["operationId"]
    return path, ops, example_ops


def examples(example_ops):
    """operationId -> [example documents]"""
    out = {}
    for dirpath, _, files in os.walk(os.path.join(SPECS, "specification")):
        if "examples" not in dirpath:
            continue
        for name in sorted(files):
            path = os.path.join(dirpath, name)
            if not name.endswith(".json") or os.path.islink(path):
                continue
            with open(path) as f:
                doc = json.load(f)
            op = doc.get("operationId") or example_ops.get(name) or EXAMPLE_OPS.get(name)
            if op:
                out.setdefault(op, []).append(doc)
    return out


def request_bodies(doc):
    return [v for v in doc.get("parameters", {}).values() if isinstance(v, dict)]


def response_bodies(doc):
    out = []
    for r in doc.get("responses", {}).values():
        body = r.get("body") if isinstance(r, dict) else None
        if isinstance(body, dict):
            out.extend(body["value"] if isinstance(body.get("value"), list) else [body])
    return out


def body_tree(op, docs, swagger):
    sources = []
    spath, sops = swagger
    if op in sops:
        for p in sops[op].get("parameters", []):
            if p.get("in") == "body":
                sources.append(from_swagger(p["schema"], spath))
    if op in upstream.OPERATIONS:
        defs, name = upstream.OPERATIONS[op]
        sources.append(from_defs(defs, name))
    if op in REFERENCE:
        kind, paths = REFERENCE[op]
        if kind:
            sources.append(envelope(kind))
        sources.append(from_paths(paths))
    if not sources:
        return None
    get = ROUND_TRIP.get(op)
    for d in docs.get(op, []):
        # a PUT's response is the resource it writes; an action's is not
        sources += [from_example(b) for b in request_bodies(d) + (response_bodies(d) if get else [])]
    if get:
        if get in sops:
            sources.append(from_swagger(sops[get]["responses"]["200"]["schema"], spath))
        for d in docs.get(get, []):
            sources += [from_example(b) for b in response_bodies(d)]
    node = ANY
    for s in sources:
        node = merge(node, s)
    return node


def expand_values(op, docs, swagger):
    values = list(REFERENCE_EXPAND.get(op, [])) + list(upstream.GALLERY_EXPAND.get(op, []))
    spath, sops = swagger
    for p in sops.get(op, {}).get("parameters", []):
        if p.get("name") == "$expand" and "enum" in p:
            values += p["enum"]
    if values:   # example values only add to a documented list
        for d in docs.get(op, []):
            for k in ("expand", "$expand"):
                v = d.get("parameters", {}).get(k)
                if isinstance(v, str):
                    values.append(v)
    seen, out = set(), []
    for v in values:
        if v.lower() not in seen:
            seen.add(v.lower())
            out.append(v)
    return out


# ---------------------------------------------------------------------------
# Lua output
# ---------------------------------------------------------------------------

LUA_KEYWORDS = set("and break do else elseif end false for function goto if in local nil not or repeat return "
                   "then true until while".split())


def lua_key(k):
    if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k) and k not in LUA_KEYWORDS:
        return k
    return "[" + json.dumps(k) + "]"


def canon(node, memo):
    """A string equal for structurally equal nodes (what the Lua accepts)."""
    key = id(node)
    if key not in memo:
        t = node["t"]
        if t in ("any", "leaf"):
            c = "T"
        elif t == "arr":
            c = "[" + canon(node["item"], memo) + "]"
        elif not node["keys"]:
            c = "{*}"
        else:
            c = "{" + ("*;" if node["mode"] != "closed" else "") + ",".join(
                k + "=" + canon(node["keys"][k], memo) for k in sorted(node["keys"])) + "}"
        memo[key] = c
    return memo[key]


def shareable(node):
    """Objects with keys, and arrays of them: the subtrees worth a name."""
    if node["t"] == "arr":
        return shareable(node["item"])
    return node["t"] == "obj" and bool(node["keys"])


def children(node):
    if node["t"] == "arr":
        return [("[]", node["item"])]
    if node["t"] == "obj":
        return [(k, node["keys"][k]) for k in sorted(node["keys"])]
    return []


# Keys too general to name a subtree by themselves.
GENERIC_KEYS = {"body", "properties", "properties_item"}


class Shared:
    """The subtrees that occur more than once, each emitted once as a local."""

    def __init__(self):
        self.memo, self.seen, self.names, self.order = {}, {}, {}, []

    def count(self, node, key, path):
        # Below a subtree's second sighting everything was counted with the first.
        if shareable(node):
            c = canon(node, self.memo)
            info = self.seen.setdefault(c, {"n": 0, "keys": [], "paths": [], "node": node})
            info["n"] += 1
            info["keys"].append(key)
            info["paths"].append(path)
            if info["n"] > 1:
                return
        for k, child in children(node):
            self.count(child, key + "_item" if k == "[]" else k, path + ("[]" if k == "[]" else "." + k))

    def base_name(self, info):
        """A key the subtree occurs under; for a small one that occurs under
        several, its shape ("with_id"); for "properties" or a whole body,
        qualified by the operation where it is least deep."""
        node, keys = info["node"], info["keys"]
        item = node["item"] if node["t"] == "arr" else node
        if item["t"] == "obj" and set(item["keys"]) == {"id"} and item["mode"] != "closed":
            return "references" if node["t"] == "arr" else "reference"
        if len(set(keys)) > 1:
            item = node["item"] if node["t"] == "arr" else node
            if item["t"] == "obj" and len(item["keys"]) <= 3:
                return ("list_with_" if node["t"] == "arr" else "with_") + "_".join(sorted(item["keys"]))
        base = max(keys, key=lambda k: (keys.count(k), -keys.index(k)))
        if base in GENERIC_KEYS:
            path = min(info["paths"], key=lambda p: (p.count(".") + p.count("["), p))
            base = path.split(":")[0] + "_" + base
        return base

    def name_all(self):
        taken = set()
        for c, info in self.seen.items():
            if info["n"] < 2:
                continue
            base = re.sub(r"[^A-Za-z0-9_]", "_", self.base_name(info))
            if base[0].isdigit() or base in LUA_KEYWORDS:
                base = "_" + base
            name, i = base, 1
            while name in taken:
                i += 1
                name = "%s_%d" % (base, i)
            taken.add(name)
            self.names[c] = name
        if len(self.names) > 180:
            raise SystemExit("gen_schema: %d shared subtrees, more locals than Lua allows in a chunk" % len(self.names))

    def name(self, node):
        return self.names.get(canon(node, self.memo)) if shareable(node) else None

    def define(self, node, out):
        """Emits the locals node needs (children first), then node's own."""
        c = canon(node, self.memo)
        if c in self.order:
            return
        self.walk(node, out)
        info = self.seen[c]
        uses = ["-- " + p for p in info["paths"][:3]]
        if info["n"] > 3:
            uses.append("-- and %d more" % (info["n"] - 3))
        out.append("%s\nlocal %s = %s\n" % ("\n".join(uses), self.names[c], lua_node(node, 0, self, top=True)))
        self.order.append(c)

    def walk(self, node, out):
        for _, child in children(node):
            if self.name(child):
                self.define(child, out)
            else:
                self.walk(child, out)


def lua_node(node, indent, shared=None, top=False):
    t = node["t"]
    if t in ("any", "leaf"):
        return "true"
    if shared and not top:
        name = shared.name(node)
        if name:
            return name
    pad = "  " * (indent + 1)
    if t == "arr":
        return '{ ["[]"] = ' + lua_node(node["item"], indent, shared) + " }"
    keys = node["keys"]
    if not keys:
        return '{ ["*"] = true }'
    lines = ["{"]
    if node["mode"] != "closed":
        lines.append(pad + '["*"] = true,')
    for k in sorted(keys):
        lines.append(pad + lua_key(k) + " = " + lua_node(keys[k], indent + 1, shared) + ",")
    lines.append("  " * indent + "}")
    return "\n".join(lines)


HEADER = """\
-- GENERATED FILE, do not edit: regenerate with
--     python3 tools/gen_schema.py [SPECS_DIR] > lua/azrp/schema.lua
-- from Microsoft's OpenAPI files in Azure/azure-rest-api-specs (a copy in
-- SPECS_DIR, by default /work/shared/azure-specs; see its SOURCES.md):
-- DiskRP.json 2026-03-02 (complete) and common-types v3 types.json; for
-- ComputeRP 2025-11-01 the stored examples' request and GET response bodies
-- plus the properties listed in ../reference/api-reference.md (transcribed
-- in the generator); for GalleryRP 2025-03-03, Network 2024-05-01 and
-- Resources 2021-04-01 their definitions, transcribed in
-- tools/schema_upstream.py, with the stored examples.
--
-- operationId -> { body = <tree>, expand = { <$expand values> } }
-- A tree node is true (any value) or a table: an object's allowed keys,
-- with ["*"] = true when other keys are allowed too (free-form maps such as
-- tags, objects the sources list only in part, references to other
-- resources, whose id is all ARM reads), or ["[]"] = <node> for an array
-- and its items.  Read-only properties are allowed (ARM ignores them on
-- PUT, and GET bodies are sent back).  A subtree that occurs more than once
-- is a local below, named after a key it occurs under; the comment above
-- it says where.
--
-- Not described by the sources, so not checked:
%s
"""


def comment_lines(items):
    lines, line = [], "--  "
    for u in items:
        if len(line) + len(u) + 2 > 78 and line != "--  ":
            lines.append(line.rstrip(","))
            line = "--  "
        line += " " + u + ","
    lines.append(line.rstrip(","))
    return lines


def vm_update_tree(vm):
    """VirtualMachineUpdate: UpdateResource's tags and the VM keys it takes."""
    keys = {k: vm["keys"][k] for k in upstream.VM_UPDATE_KEYS if k in vm["keys"]}
    keys["tags"] = obj(mode="open")
    return obj(keys)


def main():
    spath, sops, example_ops = diskrp_ops()
    swagger = (spath, sops)
    docs = examples(example_ops)
    ops, trees, unchecked = [], {}, []
    for op, has_body, has_expand in registry():
        tree = values = None
        if has_body:
            tree = body_tree(op, docs, swagger)
            if op == "VirtualMachines_Update" and "VirtualMachines_CreateOrUpdate" in trees:
                tree = vm_update_tree(trees["VirtualMachines_CreateOrUpdate"])
            if tree:
                trees[op] = tree
        if has_expand:
            values = expand_values(op, docs, swagger)
        if tree or values:
            ops.append((op, tree, values))
        if (has_body and not tree) or (has_expand and not values):
            why = upstream.FREE_EXPAND.get(op) if has_expand and not values else None
            unchecked.append(op + (" (body)" if has_body and not tree else "")
                             + (" ($expand: %s)" % why if why else " ($expand)" if has_expand and not values else ""))

    shared = Shared()
    for op, tree, _ in ops:
        if tree:
            shared.count(tree, "body", op + ": body")
    shared.name_all()
    locals_ = []
    for op, tree, _ in ops:
        if tree:
            if shared.name(tree):
                shared.define(tree, locals_)
            else:
                shared.walk(tree, locals_)

    entries = []
    for op, tree, values in ops:
        parts = []
        if tree:
            parts.append("    body = " + lua_node(tree, 2, shared) + ",")
        if values:
            parts.append("    expand = { " + ", ".join(json.dumps(v) for v in values) + " },")
        entries.append("  " + lua_key(op) + " = {\n" + "\n".join(parts) + "\n  },")
    sys.stdout.write(HEADER % "\n".join(comment_lines(unchecked)) + "\n")
    sys.stdout.write("\n".join(locals_) + "\nreturn {\n" + "\n".join(entries) + "\n}\n")


if __name__ == "__main__":
    main()

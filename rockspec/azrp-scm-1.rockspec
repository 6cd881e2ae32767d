-- luarocks make rockspec/azrp-scm-1.rockspec
rockspec_format = "3.0"
package = "azrp"
version = "scm-1"
source = { url = "git+file:///dev/null" }
description = {
  summary = "Scriptable Azure VM restore points from Lua: a libcurl/OpenSSL core, workflows and an offline emulator",
  license = "MIT",
}
dependencies = {
  "lua >= 5.1",
  "lua-cjson",
}
external_dependencies = {
  CURL = { header = "curl/curl.h", library = "curl" },
  OPENSSL = { header = "openssl/evp.h", library = "crypto" },
}
build = {
  type = "builtin",
  modules = {
    ["azrp.core"] = {
      sources = { "src/buffer.c", "src/client.c", "src/compat.c", "src/core.c", "src/crypto.c", "src/error.c",
        "src/http.c", "src/json.c", "src/operation.c", "src/registry.c", "src/request.c", "src/signer.c", "src/throttle.c", "src/util.c" },
      libraries = { "curl", "crypto" },
      incdirs = { "$(CURL_INCDIR)", "$(OPENSSL_INCDIR)", "src" },
      libdirs = { "$(CURL_LIBDIR)", "$(OPENSSL_LIBDIR)" },
    },
    -- The Lua layers.
    ["azrp"] = "lua/azrp/init.lua",
    ["azrp.client"] = "lua/azrp/client.lua",
    ["azrp.location"] = "lua/azrp/location.lua",
    ["azrp.schema"] = "lua/azrp/schema.lua",
    ["azrp.suggest"] = "lua/azrp/suggest.lua",
    ["azrp.validate"] = "lua/azrp/validate.lua",
    ["azrp.wait"] = "lua/azrp/wait.lua",
    ["azrp.workflows.dr_drill"] = "lua/azrp/workflows/dr_drill.lua",
    ["azrp.report"] = "lua/azrp/report/init.lua",
    ["azrp.report.json"] = "lua/azrp/report/json.lua",
    ["azrp.report.markdown"] = "lua/azrp/report/markdown.lua",
    ["azrp.report.svg"] = "lua/azrp/report/svg.lua",
    ["azrp.loop.cqueues"] = "lua/azrp/loop/cqueues.lua",
    ["azrp.loop.luv"] = "lua/azrp/loop/luv.lua",
    ["azrp.credentials"] = "lua/azrp/credentials/init.lua",
    ["azrp.credentials.azure_cli"] = "lua/azrp/credentials/azure_cli.lua",
    ["azrp.credentials.chain"] = "lua/azrp/credentials/chain.lua",
    ["azrp.credentials.client_certificate"] = "lua/azrp/credentials/client_certificate.lua",
    ["azrp.credentials.client_secret"] = "lua/azrp/credentials/client_secret.lua",
    ["azrp.credentials.default"] = "lua/azrp/credentials/default.lua",
    ["azrp.credentials.entra"] = "lua/azrp/credentials/entra.lua",
    ["azrp.credentials.environment"] = "lua/azrp/credentials/environment.lua",
    ["azrp.credentials.managed_identity"] = "lua/azrp/credentials/managed_identity.lua",
    ["azrp.credentials.static"] = "lua/azrp/credentials/static.lua",
    ["azrp.credentials.workload_identity"] = "lua/azrp/credentials/workload_identity.lua",
    -- The emulator (needs lua-http, cqueues and luaossl at run time; Debian:
    -- lua-http lua-cqueues lua-luaossl).  Keep this list in step with
    -- lua/azrp/emulator/: spec/emulator/packaging_spec.lua checks it.
    ["azrp.emulator.admin"] = "lua/azrp/emulator/admin.lua",
    ["azrp.emulator.apiversion"] = "lua/azrp/emulator/apiversion.lua",
    ["azrp.emulator.app"] = "lua/azrp/emulator/app.lua",
    ["azrp.emulator.arm"] = "lua/azrp/emulator/arm.lua",
    ["azrp.emulator.blob"] = "lua/azrp/emulator/blob.lua",
    ["azrp.emulator.clock"] = "lua/azrp/emulator/clock.lua",
    ["azrp.emulator.content"] = "lua/azrp/emulator/content.lua",
    ["azrp.emulator.deps"] = "lua/azrp/emulator/deps.lua",
    ["azrp.emulator.faults"] = "lua/azrp/emulator/faults.lua",
    ["azrp.emulator.identity"] = "lua/azrp/emulator/identity.lua",
    ["azrp.emulator.identity.assertions"] = "lua/azrp/emulator/identity/assertions.lua",
    ["azrp.emulator.identity.common"] = "lua/azrp/emulator/identity/common.lua",
    ["azrp.emulator.identity.directory"] = "lua/azrp/emulator/identity/directory.lua",
    ["azrp.emulator.identity.discovery"] = "lua/azrp/emulator/identity/discovery.lua",
    ["azrp.emulator.identity.entra"] = "lua/azrp/emulator/identity/entra.lua",
    ["azrp.emulator.identity.managed"] = "lua/azrp/emulator/identity/managed.lua",
    ["azrp.emulator.identity.resources"] = "lua/azrp/emulator/identity/resources.lua",
    ["azrp.emulator.identity.settings"] = "lua/azrp/emulator/identity/settings.lua",
    ["azrp.emulator.identity.subscriptions"] = "lua/azrp/emulator/identity/subscriptions.lua",
    ["azrp.emulator.identity.token_cache"] = "lua/azrp/emulator/identity/token_cache.lua",
    ["azrp.emulator.identity.tokens"] = "lua/azrp/emulator/identity/tokens.lua",
    ["azrp.emulator.ids"] = "lua/azrp/emulator/ids.lua",
    ["azrp.emulator.json"] = "lua/azrp/emulator/json.lua",
    ["azrp.emulator.jwt"] = "lua/azrp/emulator/jwt.lua",
    ["azrp.emulator.log"] = "lua/azrp/emulator/log.lua",
    ["azrp.emulator.lro"] = "lua/azrp/emulator/lro.lua",
    ["azrp.emulator.main"] = "lua/azrp/emulator/main.lua",
    ["azrp.emulator.regions"] = "lua/azrp/emulator/regions.lua",
    ["azrp.emulator.reply"] = "lua/azrp/emulator/reply.lua",
    ["azrp.emulator.router"] = "lua/azrp/emulator/router.lua",
    ["azrp.emulator.seed"] = "lua/azrp/emulator/seed.lua",
    ["azrp.emulator.server"] = "lua/azrp/emulator/server.lua",
    ["azrp.emulator.smoke"] = "lua/azrp/emulator/smoke.lua",
    ["azrp.emulator.state"] = "lua/azrp/emulator/state.lua",
    ["azrp.emulator.store"] = "lua/azrp/emulator/store.lua",
    ["azrp.emulator.throttle"] = "lua/azrp/emulator/throttle.lua",
    ["azrp.emulator.tls"] = "lua/azrp/emulator/tls.lua",
    ["azrp.emulator.util"] = "lua/azrp/emulator/util.lua",
    ["azrp.emulator.wire"] = "lua/azrp/emulator/wire.lua",
    ["azrp.emulator.providers.access"] = "lua/azrp/emulator/providers/access.lua",
    ["azrp.emulator.providers.disk_restore_points"] = "lua/azrp/emulator/providers/disk_restore_points.lua",
    ["azrp.emulator.providers.disks"] = "lua/azrp/emulator/providers/disks.lua",
    ["azrp.emulator.providers.galleries"] = "lua/azrp/emulator/providers/galleries.lua",
    ["azrp.emulator.providers.images"] = "lua/azrp/emulator/providers/images.lua",
    ["azrp.emulator.providers.network"] = "lua/azrp/emulator/providers/network.lua",
    ["azrp.emulator.providers.operations"] = "lua/azrp/emulator/providers/operations.lua",
    ["azrp.emulator.providers.resources"] = "lua/azrp/emulator/providers/resources.lua",
    ["azrp.emulator.providers.restore_points"] = "lua/azrp/emulator/providers/restore_points.lua",
    ["azrp.emulator.providers.snapshots"] = "lua/azrp/emulator/providers/snapshots.lua",
    ["azrp.emulator.providers.virtual_machines"] = "lua/azrp/emulator/providers/virtual_machines.lua",
  },
  install = {
    bin = { azrp = "bin/azrp" },
  },
}
test_dependencies = { "busted" }
test = { type = "busted" }

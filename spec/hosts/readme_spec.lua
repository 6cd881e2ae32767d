-- The README's OpenResty and Neovim snippets are the files the host specs
-- run: each fenced block after a "<!-- file: PATH -->" line must equal
-- PATH byte for byte.
-- spec/run.sh: in the pool
local H = require "hosts.host"

describe("README host snippets", function()
  local readme = assert(H.read("README.md"))
  local blocks = {}
  for path, body in readme:gmatch("<!%-%- file: (%S+) %-%->\n```[%w]*\n(.-)```\n") do
    blocks[path] = body
  end

  for _, path in ipairs{ "examples/openresty/nginx.conf", "examples/openresty/azrp_demo.lua",
    "examples/neovim/init.lua", "examples/neovim/plugin/azrp.lua" } do
    it("includes " .. path .. " as it is", function()
      assert.is_string(blocks[path], "README.md has no block for " .. path)
      assert.are.equal(assert(H.read(path)), blocks[path])
    end)
  end

  it("has no block for a file that does not exist", function()
    for path in pairs(blocks) do assert.is_string(H.read(path), path) end
  end)
end)

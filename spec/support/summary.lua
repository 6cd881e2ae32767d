-- busted output handler: the usual terminal output, then a line
-- "FAILED: file:line name" per failure or error (spec/run.sh gathers them
-- at the end of its output, where CI's excerpt shows them), then one
-- plain line "N passed, N failed, N skipped" that CI and spec/run.sh read.
return function(options)
  local busted = require "busted"
  local handler = require("busted.outputHandlers.utfTerminal")(options)
  busted.subscribe({ "suite", "end" }, function()
    local lines = {}
    for _, list in ipairs({ handler.failures, handler.errors }) do
      for _, e in ipairs(list) do
        local t = e.trace or (e.element and e.element.trace) or {}
        local where = t.short_src and (t.short_src .. ":" .. tostring(t.currentline)) or "?"
        local msg = tostring(e.message or ""):match("^[^\n]*"):sub(1, 160)
        lines[#lines + 1] = string.format("FAILED: %s %s: %s", where,
          tostring(e.name or "?"):gsub("%s+", " "), msg)
      end
    end
    if #lines > 0 then io.write("\n", table.concat(lines, "\n"), "\n") end
    io.write(string.format("\n%d passed, %d failed, %d skipped\n", #handler.successes,
      #handler.failures + #handler.errors, #handler.pendings))
    io.flush()
    return nil, true
  end)
  return handler
end

#pragma once
// The rule author's tool: `cel eval` and `cel check`, wired into the main binary as a subcommand.
//
//   cel eval 'language == "es"' --vars '{"language":"es"}'   -> {"type":"bool","value":true}
//   cel eval 'size(messages) > 2' --vars-file request.json
//   cel check 'plan in ["free", "trial"]'                     -> ok
//
// Results print as typed JSON (64-bit integers as strings with their type); errors print with
// line, column and a caret, and the exit status is non-zero (1 for a rule error, 2 for usage).

namespace sy::cel {

int run_tool(int argc, char** argv);

}  // namespace sy::cel

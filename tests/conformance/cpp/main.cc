// The C++ conformance client: every check of tests/conformance/README.md
// against a live server, one line each, then "N passed, M failed".
//
//   conformance --address 127.0.0.1:PORT --scenario scenario.json --golden golden/
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "checks.h"
#include "expect.h"
#include "openenv_grpc/call.h"
#include "openenv_grpc/client.h"

namespace {

struct Check {
  const char* name;
  void (*run)(Context&);
};

constexpr Check kChecks[] = {
    {"describe", CheckDescribe},
    {"trace", CheckTrace},
    {"unary_episode", CheckUnaryEpisode},
    {"step_after_end", CheckStepAfterEnd},
    {"unknown_session", CheckUnknownSession},
    {"action_out_of_space", CheckActionOutOfSpace},
    {"out_of_order", CheckOutOfOrder},
    {"retried_step", CheckRetriedStep},
    {"request_id_twice", CheckRequestIdTwice},
    {"deadline_retry", CheckDeadlineRetry},
    {"stream_episode", CheckStreamEpisode},
    {"batched", CheckBatched},
    {"golden", CheckGolden},
};

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args;
  for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
  if (argc % 2 == 0 || !args.count("--address") || !args.count("--scenario") ||
      !args.count("--golden")) {
    std::cerr << "usage: conformance --address HOST:PORT --scenario scenario.json --golden DIR\n";
    return 2;
  }
  json scenario;
  try {
    scenario = json::parse(std::ifstream(args["--scenario"]));
  } catch (const std::exception& e) {
    std::cerr << "cannot read the scenario " << args["--scenario"] << ": " << e.what() << "\n";
    return 2;
  }

  openenv_grpc::Client client(openenv_grpc::Connect(args["--address"]));
  Context ctx{client, scenario, args["--golden"], "", ""};
  int passed = 0, failed = 0;
  for (const Check& check : kChecks) {
    std::string why;
    try {
      check.run(ctx);
    } catch (const CheckFailed& e) {
      why = e.what();
    } catch (const std::exception& e) {  // a malformed scenario, an unexpected value
      why = std::string("error: ") + e.what();
    }
    if (why.empty()) {
      ++passed;
      std::cout << "PASS " << check.name << std::endl;
    } else {
      ++failed;
      for (char& c : why) c = c == '\n' ? ' ' : c;  // one line per check
      std::cout << "FAIL " << check.name << ": " << why << std::endl;
    }
  }
  std::cout << passed << " passed, " << failed << " failed" << std::endl;
  return failed ? 1 : 0;
}

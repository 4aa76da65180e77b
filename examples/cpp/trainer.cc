// The C++ example trainer: runs episodes of a random policy against
// whatever environment a server serves, over one StepStream session, and
// prints each episode's return and length.
//
//   trainer [--address localhost:50051] [--episodes 3] [--seed 0]
//           [--ca-file ca.crt [--cert-file client.crt --key-file client.key]]
//           [--token TOKEN]     (default: $OPENENV_GRPC_TOKEN)
//
// Plaintext unless --ca-file (TLS) or --cert-file/--key-file (mutual TLS)
// is given; the token goes as `authorization: Bearer TOKEN` on every call.
//
// The action space comes from Describe, so the same program drives
// CartPole (Discrete) and a continuous-control env (Box of any shape).
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

#include "openenv_grpc/openenv_grpc.h"
#include "random_policy.h"

namespace {

struct Args {
  std::string address = "localhost:50051";
  int episodes = 3;
  uint64_t seed = 0;
  openenv_grpc::ConnectOptions connect;
};

Args Parse(int argc, char** argv) {
  Args args;
  if (const char* token = std::getenv("OPENENV_GRPC_TOKEN")) args.connect.token = token;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument("missing value after " + flag);
    std::string value = argv[++i];
    if (flag == "--address") {
      args.address = value;
    } else if (flag == "--episodes") {
      args.episodes = std::stoi(value);
    } else if (flag == "--seed") {
      args.seed = std::stoull(value);
    } else if (flag == "--ca-file") {
      args.connect.ca_file = value;
    } else if (flag == "--cert-file") {
      args.connect.cert_file = value;
    } else if (flag == "--key-file") {
      args.connect.key_file = value;
    } else if (flag == "--token") {
      args.connect.token = value;
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  return args;
}

int Fail(const std::string& what, const openenv_grpc::Error& error) {
  std::cerr << what << " failed: " << error.ToString() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  std::shared_ptr<grpc::Channel> channel;
  try {
    args = Parse(argc, argv);
    channel = openenv_grpc::Connect(args.address, args.connect);
  } catch (const std::exception& e) {
    std::cerr << e.what()
              << "\nusage: trainer [--address HOST:PORT] [--episodes N] [--seed S]"
                 " [--ca-file PEM] [--cert-file PEM --key-file PEM] [--token TOKEN]\n";
    return 2;
  }

  openenv_grpc::Client client(channel);
  auto spec = client.Describe(openenv_grpc::CallOptions{std::chrono::seconds(10), {}});
  if (!spec) {
    // A TLS server closes a plaintext connection with no more said than this.
    bool plaintext = args.connect.ca_file.empty() && args.connect.cert_file.empty();
    if (plaintext && spec.error().code == grpc::StatusCode::UNAVAILABLE) {
      std::cerr << "(connected in plaintext: if the server serves TLS, pass --ca-file)\n";
    }
    return Fail("Describe", spec.error());
  }
  std::cout << "env " << spec->env_name() << " (protocol " << spec->protocol_version() << ", "
            << spec->server_version() << ")\n";
  RandomPolicy policy(spec->action_space(), args.seed);

  openenv_grpc::Session session = client.OpenSession();
  for (int episode = 1; episode <= args.episodes; ++episode) {
    // Seed the first episode only (Gymnasium: seed once, then episodes differ).
    openenv_grpc::ResetOptions start;
    if (episode == 1) start.seed = args.seed;
    auto reset = episode == 1 ? session.Create(start) : session.Reset(start);
    if (!reset) return Fail("Reset", reset.error());
    double total = 0;
    bool done = false;
    while (!done) {
      auto step = session.Step(policy.Sample());
      if (!step) return Fail("Step", step.error());
      total += step->reward();
      done = step->terminated() || step->truncated();
    }
    std::cout << "episode " << episode << ": return " << total << ", length "
              << session.step_count() << "\n";
  }
  if (auto error = session.Close()) return Fail("Close", *error);
  return 0;
}

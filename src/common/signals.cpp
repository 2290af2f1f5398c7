#include "common/signals.hpp"

#include <csignal>

namespace kolla {
namespace {

// A signal handler may only touch lock-free atomics.
static_assert(std::atomic<bool>::is_always_lock_free);
static_assert(std::atomic<std::atomic<bool>*>::is_always_lock_free);

std::atomic<std::atomic<bool>*> g_stop{nullptr};

extern "C" void on_stop_signal(int) {
  if (std::atomic<bool>* stop = g_stop.load()) stop->store(true);
}

}  // namespace

void install_stop_signals(std::atomic<bool>& stop) {
  g_stop.store(&stop);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

}  // namespace kolla

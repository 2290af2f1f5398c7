#pragma once
// The stop signals of a long-running process (kolla-operator, the benchmarks' proxy).

#include <atomic>

namespace kolla {

// From now on SIGTERM and SIGINT set `stop` to true and do nothing else (the process stops when
// it next looks at the flag), and SIGPIPE is ignored (a write to a closed connection fails with
// EPIPE instead of ending the process). `stop` must live as long as the handlers may run (a
// global); a later call points the handlers at its own flag instead.
void install_stop_signals(std::atomic<bool>& stop);

}  // namespace kolla

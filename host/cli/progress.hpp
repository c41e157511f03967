// A terminal progress bar for long CLI work: redraws one line on stderr when it is a terminal,
// at most ~10 times a second; silent otherwise (logs and pipes stay clean).
#pragma once

#include <sealhost/sdk/units.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

namespace sealhost::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label)
      : label_(std::move(label)),
        tty_(::isatty(STDERR_FILENO) == 1),
        start_(std::chrono::steady_clock::now()) {}
  ~ProgressBar() { finish(); }

  void update(uint64_t done, uint64_t total) {
    if (!tty_) return;
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    draw(done, total, now);
  }
  void finish() {
    if (tty_ && drawn_) std::fputc('\n', stderr);
    drawn_ = false;
  }

 private:
  void draw(uint64_t done, uint64_t total, std::chrono::steady_clock::time_point now) {
    constexpr int kWidth = 30;
    double frac = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    int fill = static_cast<int>(frac * kWidth);
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
    std::string bar(static_cast<size_t>(fill), '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r%s [%s] %5.1f%%  %s / %s  %s/s   ", label_.c_str(), bar.c_str(),
                 frac * 100, sdk::units::format_size_human(done).c_str(),
                 sdk::units::format_size_human(total).c_str(),
                 sdk::units::format_size_human(static_cast<uint64_t>(rate)).c_str());
    std::fflush(stderr);
    drawn_ = true;
  }
  std::string label_;
  bool tty_;
  bool drawn_ = false;
  std::mutex mu_;
  std::chrono::steady_clock::time_point start_, last_{};
};

}  // namespace sealhost::cli

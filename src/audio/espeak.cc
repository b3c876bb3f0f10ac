#include "audio/espeak.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "audio/espeak_voices.h"
#include "audio/pcm.h"
#include "core/assert.h"
#include "core/thread_name.h"

#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>

namespace sy::audio {

struct Espeak::Engine {
  struct Job {
    std::string text;
    Voice voice;
    OnAudio on_audio;
    OnDone on_done;
    std::shared_ptr<std::atomic<bool>> cancelled;
  };

  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Job> queue;  // guarded by mutex
  bool stopping = false;  // guarded by mutex
  std::atomic<bool> abort_current{false};
  // Written by the synthesis thread before open() returns; read-only afterwards.
  int native_rate = 0;
  VoiceCatalog catalog;
  std::thread thread;
};

namespace {

using Job = Espeak::Engine::Job;

// espeak-ng itself, initialised once for the life of the process: 1.51 cannot be initialised
// again after espeak_ng_Terminate (the next Terminate deadlocks with its internal thread), and
// its state is global anyway. Engines come and go on top; an engine's thread holds `mutex` for
// its whole life, so a new engine waits for an old one that is still finishing on its own.
struct EspeakProcess {
  std::mutex mutex;
  bool initialized = false;
  int native_rate = 0;
  VoiceCatalog catalog;
  std::string loaded_voice;  // espeak-ng's current voice
};
EspeakProcess& espeak_process() {
  static auto* process = new EspeakProcess;  // never destroyed: a detached thread may outlive exit
  return *process;
}

// The engine alive now, if any (open() hands out the same one).
std::mutex& instance_mutex() {
  static std::mutex mutex;
  return mutex;
}
std::weak_ptr<Espeak>& instance() {
  static std::weak_ptr<Espeak> engine;
  return engine;
}

std::string status_message(espeak_ng_STATUS status) {
  char buffer[512] = {};
  espeak_ng_GetStatusCodeMessage(status, buffer, sizeof buffer);
  return buffer;
}

tl::unexpected<Error> cancelled_error() {
  return fail(ErrorCode::kUnavailable, "speech synthesis cancelled");
}
tl::unexpected<Error> shutdown_error() {
  return fail(ErrorCode::kUnavailable,
              "speech synthesis stopped: the espeak engine is shutting down");
}

// espeak-ng takes the given directory itself or the espeak-ng-data inside it, and silently
// falls back to its default when neither holds data; a configured path that is wrong must fail.
Result<void> check_data_path(const std::string& path) {
  std::error_code ignored;
  if (std::filesystem::exists(std::filesystem::path(path) / "espeak-ng-data" / "phontab",
                              ignored) ||
      std::filesystem::exists(std::filesystem::path(path) / "phontab", ignored)) {
    return {};
  }
  return fail(ErrorCode::kUnavailable,
              fmt::format("espeak-ng data not found in '{}' (expected '{}/espeak-ng-data/phontab')",
                          path, path));
}

int on_espeak_audio(short* samples, int count, espeak_EVENT* events);

Result<void> initialize(const EspeakOptions& options, EspeakProcess& process) {
  if (!options.data_path.empty()) {
    if (auto checked = check_data_path(options.data_path); !checked) {
      return checked;
    }
  }
  espeak_ng_InitializePath(options.data_path.empty() ? nullptr : options.data_path.c_str());
  espeak_ng_ERROR_CONTEXT context = nullptr;
  espeak_ng_STATUS status = espeak_ng_Initialize(&context);
  espeak_ng_ClearErrorContext(&context);
  if (status != ENS_OK) {
    const char* data_path = nullptr;
    espeak_Info(&data_path);
    return fail(
        ErrorCode::kUnavailable,
        fmt::format(
            "espeak-ng could not load its data from '{}': {} (install espeak-ng-data, or set "
            "ESPEAK_DATA_PATH)",
            data_path != nullptr ? data_path : "?", status_message(status)));
  }
  status = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, options.buffer_ms, nullptr);
  if (status != ENS_OK) {
    return fail(ErrorCode::kUnavailable,
                "espeak-ng output setup failed: " + status_message(status));
  }
  espeak_SetSynthCallback(on_espeak_audio);
  process.native_rate = espeak_ng_GetSampleRate();
  process.catalog = list_installed_voices();
  process.initialized = true;
  return {};
}

// The job being synthesised. espeak-ng's audio callback is a plain function, so it finds the
// job through `t_running` (set and read on the synthesis thread only).
struct RunningJob {
  Job& job;
  const std::atomic<bool>& abort_all;
  Resampler resampler;
  std::vector<int16_t> pcm;
  bool cancelled = false;
  bool callback_threw = false;

  bool should_stop() const {
    return abort_all.load(std::memory_order_relaxed) ||
           (job.cancelled && job.cancelled->load(std::memory_order_relaxed));
  }
  // Hands the converted audio to the job; false when the job's callback threw.
  bool deliver() {
    if (pcm.empty()) {
      return true;
    }
    try {
      job.on_audio(pcm);
    } catch (...) {
      callback_threw = true;  // must not unwind through espeak-ng's C frames
    }
    pcm.clear();
    return !callback_threw;
  }
};
thread_local RunningJob* t_running = nullptr;

int on_espeak_audio(short* samples, int count, espeak_EVENT* /*events*/) {
  RunningJob* running = t_running;
  if (running == nullptr || samples == nullptr) {  // nullptr samples: the end of the text
    return 0;
  }
  if (running->should_stop()) {
    running->cancelled = true;
    return 1;  // espeak-ng stops this text
  }
  if (count <= 0) {
    return 0;
  }
  running->resampler.push(std::span<const int16_t>(samples, static_cast<size_t>(count)),
                          running->pcm);
  return running->deliver() ? 0 : 1;
}

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

Result<void> select_voice(const Voice& voice, std::string& loaded_voice) {
  if (voice.espeak != loaded_voice) {  // loading a voice reads its files and dictionary
    loaded_voice.clear();
    if (espeak_ng_STATUS status = espeak_ng_SetVoiceByName(voice.espeak.c_str());
        status != ENS_OK) {
      return fail(ErrorCode::kInternal,
                  fmt::format("espeak-ng could not load voice '{}' ({}): {}", voice.name,
                              voice.espeak, status_message(status)));
    }
    loaded_voice = voice.espeak;
  }
  espeak_ng_SetParameter(espeakRATE, voice.rate_wpm, 0);
  espeak_ng_SetParameter(espeakPITCH, voice.pitch, 0);
  return {};
}

Result<void> synthesize_now(Job& job, Espeak::Engine& engine, std::string& loaded_voice) {
  if (job.cancelled && job.cancelled->load()) {
    return cancelled_error();
  }
  if (is_blank(job.text)) {
    return {};
  }
  if (auto selected = select_voice(job.voice, loaded_voice); !selected) {
    return selected;
  }
  // espeak-ng reads up to the first NUL.
  std::replace(job.text.begin(), job.text.end(), '\0', ' ');

  RunningJob running{job, engine.abort_current, Resampler(engine.native_rate, kSampleRate), {}};
  t_running = &running;
  // Without espeakSSML and espeakPHONEMES the text is read as plain text.
  espeak_ng_STATUS status =
      espeak_ng_Synthesize(job.text.c_str(), job.text.size() + 1, 0, POS_CHARACTER, 0,
                           espeakCHARS_UTF8, nullptr, nullptr);
  t_running = nullptr;
  if (running.callback_threw) {
    return fail(ErrorCode::kInternal, "speech synthesis: the audio callback threw");
  }
  if (running.cancelled) {
    return engine.abort_current.load() ? shutdown_error() : cancelled_error();
  }
  if (status != ENS_OK) {
    return fail(ErrorCode::kInternal, "espeak-ng synthesis failed: " + status_message(status));
  }
  running.resampler.finish(running.pcm);
  if (!running.deliver()) {
    return fail(ErrorCode::kInternal, "speech synthesis: the audio callback threw");
  }
  return {};
}

void finish_job(Job& job, Result<void> result) {
  try {
    job.on_done(std::move(result));
  } catch (...) {
    SY_BUG("espeak: on_done threw");
  }
}

void serve(Espeak::Engine& engine, std::string& loaded_voice) {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(engine.mutex);
      engine.wake.wait(lock, [&] { return engine.stopping || !engine.queue.empty(); });
      if (engine.stopping) {
        break;
      }
      job = std::move(engine.queue.front());
      engine.queue.pop_front();
    }
    finish_job(job, synthesize_now(job, engine, loaded_voice));
  }
  std::deque<Job> abandoned;
  {
    std::lock_guard lock(engine.mutex);
    abandoned.swap(engine.queue);
  }
  for (Job& job : abandoned) {
    finish_job(job, shutdown_error());
  }
}

void run(std::shared_ptr<Espeak::Engine> engine, EspeakOptions options,
         std::promise<Result<void>> started) {
  name_this_thread("sy-espeak");
  EspeakProcess& process = espeak_process();
  std::lock_guard process_lock(process.mutex);
  if (!process.initialized) {
    if (Result<void> initialized = initialize(options, process); !initialized) {
      started.set_value(std::move(initialized));
      return;
    }
  }
  engine->native_rate = process.native_rate;
  engine->catalog = process.catalog;
  started.set_value({});
  serve(*engine, process.loaded_voice);
}

}  // namespace

Result<std::shared_ptr<Espeak>> Espeak::open(const EspeakOptions& options) {
  std::lock_guard lock(instance_mutex());
  if (std::shared_ptr<Espeak> running = instance().lock()) {
    return running;
  }

  auto engine = std::make_shared<Engine>();
  std::promise<Result<void>> started;
  std::future<Result<void>> started_future = started.get_future();
  engine->thread = std::thread(run, engine, options, std::move(started));
  Result<void> initialized = started_future.get();
  if (!initialized) {
    engine->thread.join();
    return tl::unexpected(initialized.error());
  }
  std::shared_ptr<Espeak> espeak(new Espeak(std::move(engine)));
  instance() = espeak;
  return espeak;
}

Espeak::~Espeak() {
  {
    std::lock_guard lock(engine_->mutex);
    engine_->stopping = true;
  }
  engine_->abort_current = true;
  engine_->wake.notify_all();
  // From a callback, on the thread itself: it cannot join itself; it holds the engine and ends
  // once the callback returns.
  if (engine_->thread.get_id() == std::this_thread::get_id()) {
    engine_->thread.detach();
  } else {
    engine_->thread.join();
  }
}

Result<Voice> Espeak::voice(std::string_view name) const {
  return resolve_voice(name, engine_->catalog);
}

std::vector<std::string> Espeak::voice_names() const {
  return openai_voice_names();
}

int Espeak::native_sample_rate() const {
  return engine_->native_rate;
}

void Espeak::synthesize(std::string text, Voice voice, OnAudio on_audio, OnDone on_done,
                        std::shared_ptr<std::atomic<bool>> cancelled) {
  {
    std::lock_guard lock(engine_->mutex);
    engine_->queue.push_back(Job{std::move(text), std::move(voice), std::move(on_audio),
                                 std::move(on_done), std::move(cancelled)});
  }
  engine_->wake.notify_one();
}

}  // namespace sy::audio

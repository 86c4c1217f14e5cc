// Python's callback= and error_callback=: Callbacks<T>, and the CallbackRunner that runs them
// for a pool (async_result.h says where and when they run).
#ifndef PROCPAR_PRIMITIVES_CALLBACKS_H_
#define PROCPAR_PRIMITIVES_CALLBACKS_H_

#include <sys/types.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace procpar {

// What a callback receives: the result's value (nothing for void), or, for error_callback, the
// exception get() would throw. The type T is the AsyncResult's: `std::vector<R>` for map_async.
//   pool.apply_async(Callbacks<int>{.callback = [&](int v) { ... },
//                                   .error_callback = [&](const std::exception& e) { ... }},
//                    task, 3);
namespace async_detail {
template <class T>
struct ValueCallback {
  using type = std::function<void(const T&)>;
};
template <>
struct ValueCallback<void> {
  using type = std::function<void()>;
};
}  // namespace async_detail

template <class T>
struct Callbacks {
  typename async_detail::ValueCallback<T>::type callback{};
  std::function<void(const std::exception&)> error_callback{};
};

namespace async_detail {

// Runs the callbacks of a pool's results (see Callbacks above) in one thread of its own,
// started by the first submission that has callbacks, so that a pool without callbacks has no
// such thread and a completion costs nothing more than before. SerialPool's runs each callback
// at once in the thread that posts it.
class CallbackRunner : public std::enable_shared_from_this<CallbackRunner> {
 public:
  enum class Mode { kThread, kInline };
  explicit CallbackRunner(Mode mode) : mode_(mode) {}
  ~CallbackRunner();
  CallbackRunner(const CallbackRunner&) = delete;
  CallbackRunner& operator=(const CallbackRunner&) = delete;

  // Called at each submission with callbacks, before the result can complete.
  void start();
  // Queues a completed result's callbacks (called by whichever thread completes the result,
  // possibly with the pool's lock held: it only queues).
  void post(std::function<void()> work);
  // Runs what is queued and stops the thread (the pool's join()). From a callback itself it
  // cannot wait for its own thread: the thread then finishes the queue on its own.
  void stop();

 private:
  void run_queue();
  static void run_guarded(const std::function<void()>& work);

  Mode mode_;
  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<std::function<void()>> queue_;
  bool started_ = false;
  bool stopping_ = false;
  pid_t owner_ = 0;
  std::thread thread_;
};

}  // namespace async_detail
}  // namespace procpar

#endif  // PROCPAR_PRIMITIVES_CALLBACKS_H_

// Base for every heavy native call: runs Compute() off the JS thread, resolves a Promise,
// forwards progress to an optional JS callback, and rejects with an AbortError on cancel.
#pragma once
#include <napi.h>

#include <exception>
#include <functional>
#include <string>

#include "common/cancel_token.h"

namespace rr {

class PromiseWorker : public Napi::AsyncProgressWorker<double> {
 public:
  PromiseWorker(Napi::Env env, CancelFlag cancel, Napi::Function onProgress)
      : Napi::AsyncProgressWorker<double>(env), deferred_(Napi::Promise::Deferred::New(env)),
        cancel_(std::move(cancel)) {
    if (!onProgress.IsEmpty()) progress_ = Napi::Persistent(onProgress);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  // Runs on a worker thread. `report(fraction)` may be called any number of times.
  virtual void Compute(const std::function<void(double)>& report) = 0;
  // Runs on the JS thread after Compute succeeded.
  virtual Napi::Value Result(Napi::Env env) = 0;
  const CancelFlag& cancel() const { return cancel_; }

 private:
  void Execute(const ExecutionProgress& p) override {
    try {
      Compute([&p](double f) { p.Send(&f, 1); });
    } catch (const Cancelled&) {
      cancelled_ = true;
      SetError("The operation was aborted");
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown native error");
    }
  }
  void OnProgress(const double* data, size_t count) override {
    if (progress_.IsEmpty() || count == 0) return;
    Napi::HandleScope scope(Env());
    try {
      progress_.Call({Napi::Number::New(Env(), data[count - 1])});
    } catch (const Napi::Error&) {
      // A throwing progress callback must not take the worker down; the result still arrives.
    }
  }
  void OnOK() override {
    Napi::HandleScope scope(Env());
    try {
      deferred_.Resolve(Result(Env()));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override {
    Napi::HandleScope scope(Env());
    if (cancelled_) {
      Napi::Error abort = Napi::Error::New(Env(), "The operation was aborted");
      abort.Value().Set("name", Napi::String::New(Env(), "AbortError"));
      abort.Value().Set("code", Napi::String::New(Env(), "ABORT_ERR"));
      deferred_.Reject(abort.Value());
    } else {
      deferred_.Reject(e.Value());
    }
  }

  Napi::Promise::Deferred deferred_;
  CancelFlag cancel_;
  Napi::FunctionReference progress_;
  bool cancelled_ = false;
};

}  // namespace rr

namespace rr {

// A PromiseWorker from two closures (state shared through captured shared_ptrs).
class FnWorker : public PromiseWorker {
 public:
  using ComputeFn = std::function<void(const CancelFlag&)>;
  using ResultFn = std::function<Napi::Value(Napi::Env)>;
  FnWorker(Napi::Env env, CancelFlag cancel, ComputeFn compute, ResultFn result)
      : PromiseWorker(env, std::move(cancel), Napi::Function()), compute_(std::move(compute)),
        result_(std::move(result)) {}
  // Queues the work and returns its promise.
  static Napi::Promise Start(Napi::Env env, CancelFlag cancel, ComputeFn compute, ResultFn result) {
    auto* w = new FnWorker(env, std::move(cancel), std::move(compute), std::move(result));
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }

 protected:
  void Compute(const std::function<void(double)>&) override { compute_(cancel()); }
  Napi::Value Result(Napi::Env env) override { return result_(env); }

 private:
  ComputeFn compute_;
  ResultFn result_;
};

}  // namespace rr

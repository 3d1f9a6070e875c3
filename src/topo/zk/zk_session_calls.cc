// ZkSession's calls: submission with the C client's async API, the
// completions that fill in ZkReply, deadlines, and retries of reads.

#include <utility>

#include "base/backoff.h"
#include "topo/zk/zk_session.h"

namespace shale::topo::zk_internal {

// One submitted async call: the reply once it arrives, and the buffers a
// multi needs until its completion ran.
class ZkCall {
 public:
  void Complete(ZkReply reply) {
    absl::MutexLock l(&mu_);
    if (done_) return;
    reply_ = std::move(reply);
    done_ = true;
  }
  ZkReply Wait(absl::Time deadline) {
    absl::MutexLock l(&mu_);
    mu_.AwaitWithDeadline(absl::Condition(&done_), deadline);
    if (!done_) {
      ZkReply timed_out;
      timed_out.rc = ZOPERATIONTIMEOUT;
      return timed_out;
    }
    return reply_;
  }

  // Multi only; touched by the submitting thread, then by the completion.
  std::vector<ZkOp> ops;
  std::vector<zoo_op_t> zops;
  std::vector<zoo_op_result_t> results;
  std::vector<struct Stat> stats;
  std::vector<std::string> path_bufs;

 private:
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  ZkReply reply_ ABSL_GUARDED_BY(mu_);
};

namespace {

constexpr int kPathBufSize = 1024;

// The heap context of one async call: completions take ownership back.
ZkCallPtr TakeCall(const void* data) {
  std::unique_ptr<ZkCallPtr> owned(static_cast<ZkCallPtr*>(const_cast<void*>(data)));
  return *owned;
}

void OnData(int rc, const char* value, int len, const struct Stat* stat, const void* data) {
  ZkCallPtr call = TakeCall(data);
  ZkReply reply;
  reply.rc = rc;
  if (rc == ZOK) {
    if (value != nullptr && len > 0) reply.data.assign(value, len);
    if (stat != nullptr) reply.stat = *stat;
  }
  call->Complete(std::move(reply));
}

void OnStat(int rc, const struct Stat* stat, const void* data) {
  ZkCallPtr call = TakeCall(data);
  ZkReply reply;
  reply.rc = rc;
  if (rc == ZOK && stat != nullptr) reply.stat = *stat;
  call->Complete(std::move(reply));
}

void OnChildren(int rc, const struct String_vector* strings, const struct Stat* stat,
                const void* data) {
  ZkCallPtr call = TakeCall(data);
  ZkReply reply;
  reply.rc = rc;
  if (rc == ZOK) {
    if (strings != nullptr) {
      for (int i = 0; i < strings->count; ++i) reply.children.emplace_back(strings->data[i]);
    }
    if (stat != nullptr) reply.stat = *stat;
  }
  call->Complete(std::move(reply));
}

void OnCreate(int rc, const char* value, const struct Stat* stat, const void* data) {
  ZkCallPtr call = TakeCall(data);
  ZkReply reply;
  reply.rc = rc;
  if (rc == ZOK) {
    if (value != nullptr) reply.created_path = value;
    if (stat != nullptr) reply.stat = *stat;
  }
  call->Complete(std::move(reply));
}

void OnVoid(int rc, const void* data) {
  ZkCallPtr call = TakeCall(data);
  ZkReply reply;
  reply.rc = rc;
  call->Complete(std::move(reply));
}

void OnMulti(int rc, const void* data) {
  ZkCallPtr call = TakeCall(data);
  ZkReply reply;
  reply.rc = rc;
  for (const zoo_op_result_t& result : call->results) reply.op_rcs.push_back(result.err);
  call->Complete(std::move(reply));
}

bool IsConnectionLoss(int rc) {
  return rc == ZCONNECTIONLOSS || rc == ZSESSIONEXPIRED || rc == ZINVALIDSTATE ||
         rc == ZCLOSING || rc == ZSESSIONMOVED;
}

}  // namespace

template <typename SubmitFn>
ZkCallPtr ZkSession::Submit(SubmitFn submit) {
  auto call = std::make_shared<ZkCall>();
  auto* ctx = new ZkCallPtr(call);
  int rc;
  {
    absl::ReaderMutexLock l(&handle_mu_);
    rc = zh_ == nullptr ? ZINVALIDSTATE : submit(zh_, ctx);
  }
  if (rc != ZOK) {  // the completion will not run
    delete ctx;
    ZkReply reply;
    reply.rc = rc;
    call->Complete(std::move(reply));
  }
  return call;
}

template <typename StartFn>
ZkReply ZkSession::Run(absl::Time deadline, bool idempotent, StartFn start) {
  Backoff backoff(absl::Milliseconds(10), absl::Milliseconds(500));
  for (;;) {
    if (!WaitConnected(deadline)) {
      ZkReply reply;
      reply.rc = ZCONNECTIONLOSS;
      return reply;
    }
    ZkReply reply = Wait(start(), deadline);
    if (!idempotent || !IsConnectionLoss(reply.rc)) return reply;
    absl::Duration pause = backoff.Next();
    if (absl::Now() + pause >= deadline) return reply;
    absl::SleepFor(pause);
  }
}

ZkReply ZkSession::Wait(const ZkCallPtr& call, absl::Time deadline) {
  return call->Wait(deadline);
}

ZkCallPtr ZkSession::StartGet(const std::string& zpath, int64_t watch_id) {
  return Submit([&](zhandle_t* zh, ZkCallPtr* ctx) {
    return zoo_awget(zh, zpath.c_str(), watch_id != 0 ? &NodeWatcher : nullptr,
                     reinterpret_cast<void*>(watch_id), &OnData, ctx);
  });
}

ZkCallPtr ZkSession::StartExists(const std::string& zpath, int64_t watch_id) {
  return Submit([&](zhandle_t* zh, ZkCallPtr* ctx) {
    return zoo_awexists(zh, zpath.c_str(), watch_id != 0 ? &NodeWatcher : nullptr,
                        reinterpret_cast<void*>(watch_id), &OnStat, ctx);
  });
}

ZkCallPtr ZkSession::StartChildren(const std::string& zpath, int64_t watch_id) {
  return Submit([&](zhandle_t* zh, ZkCallPtr* ctx) {
    return zoo_awget_children2(zh, zpath.c_str(), watch_id != 0 ? &NodeWatcher : nullptr,
                               reinterpret_cast<void*>(watch_id), &OnChildren, ctx);
  });
}

ZkReply ZkSession::Get(const std::string& zpath, int64_t watch_id, absl::Time deadline) {
  return Run(deadline, true, [&] { return StartGet(zpath, watch_id); });
}

ZkReply ZkSession::Exists(const std::string& zpath, int64_t watch_id, absl::Time deadline) {
  return Run(deadline, true, [&] { return StartExists(zpath, watch_id); });
}

ZkReply ZkSession::Children(const std::string& zpath, int64_t watch_id, absl::Time deadline) {
  return Run(deadline, true, [&] { return StartChildren(zpath, watch_id); });
}

ZkReply ZkSession::Create(const std::string& zpath, const std::string& data, int flags,
                          absl::Time deadline) {
  return Run(deadline, false, [&] {
    return Submit([&](zhandle_t* zh, ZkCallPtr* ctx) {
      return zoo_acreate2(zh, zpath.c_str(), data.data(), static_cast<int>(data.size()),
                          &ZOO_OPEN_ACL_UNSAFE, flags, &OnCreate, ctx);
    });
  });
}

ZkReply ZkSession::Set(const std::string& zpath, const std::string& data, int version,
                       absl::Time deadline) {
  return Run(deadline, false, [&] {
    return Submit([&](zhandle_t* zh, ZkCallPtr* ctx) {
      return zoo_aset(zh, zpath.c_str(), data.data(), static_cast<int>(data.size()), version,
                      &OnStat, ctx);
    });
  });
}

ZkReply ZkSession::Delete(const std::string& zpath, int version, absl::Time deadline) {
  return Run(deadline, false, [&] {
    return Submit([&](zhandle_t* zh, ZkCallPtr* ctx) {
      return zoo_adelete(zh, zpath.c_str(), version, &OnVoid, ctx);
    });
  });
}

ZkReply ZkSession::Multi(std::vector<ZkOp> ops, absl::Time deadline) {
  return Run(deadline, false, [&] {
    return Submit([&](zhandle_t* zh, ZkCallPtr* ctx) {
      ZkCall& call = **ctx;
      const size_t n = ops.size();
      call.ops = ops;
      call.zops.resize(n);
      call.results.assign(n, zoo_op_result_t{});
      call.stats.assign(n, Stat{});
      call.path_bufs.assign(n, std::string(kPathBufSize, '\0'));
      for (size_t i = 0; i < n; ++i) {
        const ZkOp& op = call.ops[i];
        const int len = static_cast<int>(op.data.size());
        switch (op.kind) {
          case ZkOp::Kind::kCreate:
            zoo_create_op_init(&call.zops[i], op.zpath.c_str(), op.data.data(), len,
                               &ZOO_OPEN_ACL_UNSAFE, op.flags, call.path_bufs[i].data(),
                               kPathBufSize);
            break;
          case ZkOp::Kind::kDelete:
            zoo_delete_op_init(&call.zops[i], op.zpath.c_str(), op.version);
            break;
          case ZkOp::Kind::kSet:
            zoo_set_op_init(&call.zops[i], op.zpath.c_str(), op.data.data(), len, op.version,
                            &call.stats[i]);
            break;
          case ZkOp::Kind::kCheck:
            zoo_check_op_init(&call.zops[i], op.zpath.c_str(), op.version);
            break;
        }
      }
      return zoo_amulti(zh, static_cast<int>(n), call.zops.data(), call.results.data(),
                        &OnMulti, ctx);
    });
  });
}

}  // namespace shale::topo::zk_internal

#include "claudegate/middleware/middleware.hpp"

namespace claudegate::middleware {

Awaitable<server::Outcome> Next::operator()(server::RequestContext& ctx) const {
  if (index_ >= pipeline_->steps_.size()) {
    // A pipeline always ends in a terminal step; reaching here is a construction bug.
    co_return co_await server::LocalReply(ctx, Error{ErrorKind::kInternal, "no handler", {}, {}},
                                          "pipeline_exhausted");
  }
  co_return co_await pipeline_->steps_[index_]->Handle(ctx, Next(*pipeline_, index_ + 1));
}

}  // namespace claudegate::middleware

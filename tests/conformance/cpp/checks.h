// The 13 checks of tests/conformance/README.md, in its order. Each returns
// on success and throws CheckFailed (expect.h) with the reason otherwise.
#ifndef OPENENV_CONFORMANCE_CHECKS_H_
#define OPENENV_CONFORMANCE_CHECKS_H_

#include "scenario.h"

// checks_unary.cc
void CheckDescribe(Context& ctx);
void CheckTrace(Context& ctx);
void CheckUnaryEpisode(Context& ctx);
void CheckStepAfterEnd(Context& ctx);
void CheckUnknownSession(Context& ctx);
void CheckActionOutOfSpace(Context& ctx);
void CheckOutOfOrder(Context& ctx);
void CheckRetriedStep(Context& ctx);
void CheckRequestIdTwice(Context& ctx);
void CheckDeadlineRetry(Context& ctx);
// checks_stream.cc
void CheckStreamEpisode(Context& ctx);
void CheckBatched(Context& ctx);
// check_golden.cc
void CheckGolden(Context& ctx);

#endif  // OPENENV_CONFORMANCE_CHECKS_H_

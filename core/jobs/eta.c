/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The broker's ETA for jobs whose worker sends no eta_s: the remaining
 * percent divided by a smoothed rate of progress. Workers report at
 * irregular intervals, so the smoothing weighs each measured rate by the
 * time it covers (an exponential moving average in time, not in samples),
 * with a bias correction so the first estimates are plain time-weighted
 * means instead of being pulled towards zero. See docs/lifecycle.md.
 */
#include "internal.h"

#include <math.h>

void jw_jobs__eta_sample(struct jw_job *j, double progress, int64_t mono_ms)
{
	double dt_s, inst, alpha;
	int64_t dt;

	if(!(j->flags & JW_JF_EST_ANCHOR) || (j->flags & JW_JF_REANCHOR)) {
		/* First sample, or the first after a pause for review: it only
		 * starts the clock; the rate learnt so far is kept. */
		j->est_progress = progress;
		j->est_mono = mono_ms;
		j->flags = (uint16_t)((j->flags | JW_JF_EST_ANCHOR) & ~JW_JF_REANCHOR);
		return;
	}
	dt = mono_ms - j->est_mono;
	/* Events closer than this (a burst, or two arriving in one network
	 * read) would give a wild rate: leave the anchor where it is so their
	 * progress counts in the next longer interval. */
	if(dt < JW_ETA_MIN_DT_MS)
		return;
	dt_s = (double)dt / 1000.0;
	inst = (progress - j->est_progress) / dt_s;
	if(inst < 0)
		inst = 0;
	/* alpha = 1 - exp(-dt / tau): a sample covering twice the time counts
	 * as two, so an irregular sampling rate does not bias the average. */
	alpha = 1.0 - exp(-dt_s / JW_ETA_TAU_S);
	j->est_rate += alpha * (inst - j->est_rate);
	j->est_weight += alpha * (1.0 - j->est_weight);
	j->est_progress = progress;
	j->est_mono = mono_ms;
}

bool jw_jobs__eta_estimate(const struct jw_job *j, double p, double *eta_s)
{
	double rate, eta;

	/* Weight 0: fewer than two samples, so no rate has been measured. */
	if(!(j->est_weight > 0))
		return false;
	rate = j->est_rate / j->est_weight;
	if(!(rate > 0))
		return false;
	eta = (100.0 - p) / rate;
	if(eta < 0)
		eta = 0;
	/* Tenths of a second: an estimate's noise is far larger. */
	eta = round(eta * 10.0) / 10.0;
	if(!isfinite(eta))
		return false;
	*eta_s = eta;
	return true;
}

#!/usr/bin/env bash
# t_crash_campaign.sh - the crash campaign in CI: every command that writes
# to a vault (add, seal, share, import, key rotate, lockdown, recover, key
# passphrase, destroy) SIGKILLed at random moments, a few rounds each
# (EV_CAMPAIGN_ROUNDS, set by tests/CMakeLists.txt: fewer under the
# sanitizers).  The long run is tests/crash/campaign.sh -n 200 (README).
: "${EVAULT:?EVAULT must name the evault binary}"
exec bash "$(dirname "$0")/../crash/campaign.sh" -n "${EV_CAMPAIGN_ROUNDS:-10}"

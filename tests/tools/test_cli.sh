#!/bin/sh
# tests/tools/test_cli.sh - the contrl command from the outside: version,
# info, exit status 2 and a message for bad arguments, the files a short
# training run writes, Ctrl-C handling, eval of a missing checkpoint, and
# HER on a goal task (success rate with and without relabelling).
#
# usage: sh test_cli.sh <contrl executable> [<expected version>]
# Prints one "ok - <claim>" / "not ok - <claim>" line per check (TAP-like);
# exits 0 if all hold, 1 otherwise, 77 (skip) if the executable is missing.
set -u

exe=${1:?usage: test_cli.sh <contrl executable> [<version>]}
version=${2:-}
[ -x "$exe" ] || { echo "skip: $exe is not executable"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/contrl-cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0

ok() { echo "ok - $1"; }
not_ok() {
    echo "not ok - $1"
    shift
    for line in "$@"; do echo "    $line"; done
    failures=$((failures + 1))
}

# Run the command with stdout/stderr captured in $tmp/out, $tmp/err; status in $status.
run() {
    "$exe" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
}

# ---- version, help, info -------------------------------------------------

run --version
if [ $status -eq 0 ] && grep -Eq '^contrl [0-9]+\.[0-9]+\.[0-9]+' "$tmp/out" &&
   { [ -z "$version" ] || grep -q "^contrl $version\$" "$tmp/out"; }; then
    ok "version_prints_contrl_and_the_project_version"
else
    not_ok "version_prints_contrl_and_the_project_version" "status $status" "$(cat "$tmp/out")"
fi

run --help
if [ $status -eq 0 ] && grep -q 'train <algo> <task>' "$tmp/out" && grep -q 'eval' "$tmp/out" &&
   grep -q 'info' "$tmp/out"; then
    ok "help_exits_0_and_names_every_command"
else
    not_ok "help_exits_0_and_names_every_command" "status $status"
fi

for cmd in train eval info; do
    run "$cmd" --help
    if [ $status -eq 0 ] && grep -q "usage: contrl $cmd" "$tmp/out"; then
        ok "${cmd}_help_exits_0_with_its_usage"
    else
        not_ok "${cmd}_help_exits_0_with_its_usage" "status $status"
    fi
done

run train --help
if grep -q 'pendulum .*steps 20000, learning-starts 1000, batch 256, lr 1e-3' "$tmp/out" &&
   grep -q 'mountaincar .*steps 100000, learning-starts 10000' "$tmp/out"; then
    ok "train_help_states_the_task_defaults"
else
    not_ok "train_help_states_the_task_defaults"
fi

run train --help
if grep -q 'goal tasks: pointreach-N (N = 1..10), bitflip-N (N = 1..64)' "$tmp/out" &&
   grep -q -- '--her STRATEGY\[:K\]' "$tmp/out" && grep -q -- '--relabel store|sample' "$tmp/out" &&
   grep -q 'goal tasks .*steps 10000 (pointreach-N) or 20000 (bitflip-N)' "$tmp/out" &&
   grep -q 'learning-starts 1000, batch 256, lr 1e-3, gamma 0.98' "$tmp/out"; then
    ok "train_help_names_the_goal_tasks_her_flags_and_their_defaults"
else
    not_ok "train_help_names_the_goal_tasks_her_flags_and_their_defaults"
fi

run info
if [ $status -eq 0 ] && grep -Eq 'kernel set +(skx|zen3|haswell|generic|blis)$' "$tmp/out" &&
   grep -q 'BLIS version' "$tmp/out" && grep -q 'pendulum' "$tmp/out" &&
   grep -q 'mountaincar' "$tmp/out"; then
    ok "info_names_the_kernel_set_blis_and_the_tasks"
else
    not_ok "info_names_the_kernel_set_blis_and_the_tasks" "status $status" "$(cat "$tmp/out" "$tmp/err")"
fi
# sizes read from pointreach-10 and bitflip-64: N where they grow with N
if grep -Eq '^  pointreach-N +N = 1\.\.10: obs N, goal N, action N in \[-1, 1\], at most 50 steps' "$tmp/out" &&
   grep -Eq '^  bitflip-N +N = 1\.\.64: obs N, goal N, action 1 in \[-1, 1\], at most N steps' "$tmp/out"; then
    ok "info_lists_the_goal_task_patterns_with_their_sizes"
else
    not_ok "info_lists_the_goal_task_patterns_with_their_sizes" "$(cat "$tmp/out")"
fi

# ---- bad arguments: status 2, "contrl: ..." and a hint on stderr, nothing on stdout

expect_usage_error() {
    name=$1
    shift
    run "$@"
    if [ $status -eq 2 ] && [ ! -s "$tmp/out" ] && grep -q '^contrl: ' "$tmp/err" &&
       grep -q -- '--help' "$tmp/err"; then
        ok "$name"
    else
        not_ok "$name" "contrl $* -> status $status" "stderr: $(cat "$tmp/err")"
    fi
}

expect_usage_error "no_arguments_is_a_usage_error"
expect_usage_error "unknown_command_is_a_usage_error" frobnicate
expect_usage_error "unknown_top_level_option_is_a_usage_error" --frobnicate
expect_usage_error "train_unknown_algorithm_is_a_usage_error" train ppo pendulum --out "$tmp/bad"
expect_usage_error "train_unknown_task_is_a_usage_error" train td3 cartpole --out "$tmp/bad"
expect_usage_error "train_missing_task_is_a_usage_error" train td3 --out "$tmp/bad"
expect_usage_error "train_extra_argument_is_a_usage_error" train td3 pendulum extra --out "$tmp/bad"
expect_usage_error "train_unknown_flag_is_a_usage_error" train td3 pendulum --stepz 10 --out "$tmp/bad"
expect_usage_error "train_non_numeric_steps_is_a_usage_error" train td3 pendulum --steps 12x --out "$tmp/bad"
expect_usage_error "train_negative_steps_is_a_usage_error" train td3 pendulum --steps -5 --out "$tmp/bad"
expect_usage_error "train_zero_steps_is_a_usage_error" train td3 pendulum --steps 0 --out "$tmp/bad"
expect_usage_error "train_steps_beyond_64_bits_is_a_usage_error" train td3 pendulum --steps 99999999999999999999999 --out "$tmp/bad"
expect_usage_error "train_missing_value_is_a_usage_error" train td3 pendulum --out "$tmp/bad" --steps
expect_usage_error "train_flag_as_value_is_a_usage_error" train td3 pendulum --steps --seed 1 --out "$tmp/bad"
expect_usage_error "train_non_numeric_lr_is_a_usage_error" train td3 pendulum --lr abc --out "$tmp/bad"
expect_usage_error "train_zero_lr_is_a_usage_error" train td3 pendulum --lr 0 --out "$tmp/bad"
expect_usage_error "train_nan_lr_is_a_usage_error" train td3 pendulum --lr nan --out "$tmp/bad"
expect_usage_error "train_empty_hidden_layer_is_a_usage_error" train td3 pendulum --hidden 64,,64 --out "$tmp/bad"
expect_usage_error "train_zero_width_layer_is_a_usage_error" train td3 pendulum --hidden 0 --out "$tmp/bad"
expect_usage_error "train_zero_eval_episodes_is_a_usage_error" train td3 pendulum --eval-episodes 0 --out "$tmp/bad"
expect_usage_error "train_her_negative_k_is_a_usage_error" train td3 pointreach-2 --her future:-1 --out "$tmp/bad"
expect_usage_error "train_her_k_above_64_is_a_usage_error" train td3 pointreach-2 --her future:99 --out "$tmp/bad"
expect_usage_error "train_her_unknown_strategy_is_a_usage_error" train td3 pointreach-2 --her bogus --out "$tmp/bad"
expect_usage_error "train_her_non_numeric_k_is_a_usage_error" train td3 pointreach-2 --her future:x --out "$tmp/bad"
expect_usage_error "train_her_empty_k_is_a_usage_error" train td3 pointreach-2 --her future: --out "$tmp/bad"
expect_usage_error "train_her_none_with_k_is_a_usage_error" train td3 pointreach-2 --her none:2 --out "$tmp/bad"
expect_usage_error "train_unknown_relabel_mode_is_a_usage_error" train td3 pointreach-2 --relabel maybe --out "$tmp/bad"
expect_usage_error "train_her_on_a_non_goal_task_is_a_usage_error" train td3 pendulum --her future:4 --out "$tmp/bad"
expect_usage_error "train_relabel_on_a_non_goal_task_is_a_usage_error" train td3 pendulum --relabel sample --out "$tmp/bad"
expect_usage_error "train_goal_task_n_out_of_range_is_a_usage_error" train td3 pointreach-11 --out "$tmp/bad"
expect_usage_error "train_goal_task_other_eval_episodes_is_a_usage_error" train td3 pointreach-2 --eval-episodes 20 --out "$tmp/bad"
expect_usage_error "eval_unknown_task_is_a_usage_error" eval "$tmp/none.safetensors" --task cartpole
expect_usage_error "eval_on_a_goal_task_is_a_usage_error" eval "$tmp/none.safetensors" --task pointreach-2
expect_usage_error "eval_without_checkpoint_is_a_usage_error" eval --task pendulum
expect_usage_error "info_extra_argument_is_a_usage_error" info extra

if [ ! -e "$tmp/bad" ]; then
    ok "rejected_train_commands_create_no_output_directory"
else
    not_ok "rejected_train_commands_create_no_output_directory"
fi

# ---- a short training run -------------------------------------------------

run train td3 pendulum --steps 3000 --learning-starts 500 --hidden 32,32 --eval-every 1000 \
    --out "$tmp/run" --quiet
if [ $status -eq 0 ]; then
    ok "short_td3_pendulum_run_exits_0"
else
    not_ok "short_td3_pendulum_run_exits_0" "status $status" "$(cat "$tmp/err")"
fi

if grep -Eq '^final evaluation over 10 episodes: -?[0-9]+\.[0-9]+ ± [0-9]+\.[0-9]+$' "$tmp/out"; then
    ok "train_prints_the_final_evaluation"
else
    not_ok "train_prints_the_final_evaluation" "stdout: $(cat "$tmp/out")"
fi
cp "$tmp/out" "$tmp/train_out"
cp "$tmp/err" "$tmp/train_err"

header='step,episodes,mean_return,eval_mean,eval_std,critic_loss,actor_loss,mean_q,alpha,steps_per_s'
p="$tmp/run/progress.csv"
if [ -f "$p" ] && [ "$(head -n 1 "$p")" = "$header" ] &&
   [ "$(tail -n +2 "$p" | wc -l)" -ge 3 ] &&
   [ "$(tail -n +2 "$p" | awk -F, 'NF != 10' | wc -l)" -eq 0 ] &&
   [ "$(tail -n 1 "$p" | cut -d, -f1)" = 3000 ]; then
    ok "progress_csv_has_the_header_and_a_row_per_1000_steps"
else
    not_ok "progress_csv_has_the_header_and_a_row_per_1000_steps" "$(cat "$p" 2>&1)"
fi

# The last row, after 2500 updates: a mean return, evaluation and losses are all filled in.
if tail -n 1 "$p" | awk -F, '{ for (i = 1; i <= 8; i++) if ($i == "") exit 1; if ($9 != "") exit 1 }'; then
    ok "progress_csv_last_row_has_returns_losses_and_no_alpha_for_td3"
else
    not_ok "progress_csv_last_row_has_returns_losses_and_no_alpha_for_td3" "$(tail -n 1 "$p")"
fi

# Pendulum episodes last exactly 200 steps: 15 of them, ending at 200, 400, ...
e="$tmp/run/episodes.csv"
if [ -f "$e" ] && [ "$(head -n 1 "$e")" = "episode,step,return" ] &&
   [ "$(tail -n +2 "$e" | wc -l)" -eq 15 ] &&
   [ "$(tail -n +2 "$e" | awk -F, '$1 * 200 != $2 || $3 > 0 || $3 < -3000' | wc -l)" -eq 0 ]; then
    ok "episodes_csv_records_every_pendulum_episode"
else
    not_ok "episodes_csv_records_every_pendulum_episode" "$(cat "$e" 2>&1)"
fi

v="$tmp/run/evals.csv"
if [ -f "$v" ] && [ "$(tail -n +2 "$v" | cut -d, -f1 | tr '\n' ' ')" = "1000 2000 3000 " ]; then
    ok "evals_csv_has_an_evaluation_every_1000_steps"
else
    not_ok "evals_csv_has_an_evaluation_every_1000_steps" "$(cat "$v" 2>&1)"
fi

svg="$tmp/run/curve.svg"
if [ ! -f "$svg" ]; then
    svg_ok=1
elif command -v python3 >/dev/null 2>&1; then
    python3 - "$svg" <<'EOF'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
assert root.tag == ns + "svg", root.tag
assert root.get("version") == "1.1"
paths = root.findall(".//" + ns + "path") + root.findall(".//" + ns + "polyline")
assert len(paths) >= 2, "expected the training line and the evaluation band/line"
texts = "".join(t.text or "" for t in root.iter(ns + "text"))
assert "TD3 on pendulum" in texts and "evaluation" in texts, texts
EOF
    svg_ok=$?
else
    grep -q '<svg' "$svg" && grep -q '</svg>' "$svg" && grep -Eq '<(path|polyline)' "$svg"
    svg_ok=$?
fi
if [ $svg_ok -eq 0 ]; then
    ok "curve_svg_is_well_formed_svg_with_lines_title_and_legend"
else
    not_ok "curve_svg_is_well_formed_svg_with_lines_title_and_legend"
fi

# Until contrl_agent_save is implemented the run warns instead of failing.
if [ -s "$tmp/run/agent.safetensors" ] || grep -q 'warning: checkpoint .* not written' "$tmp/train_err"; then
    ok "train_writes_the_checkpoint_or_warns_why_not"
else
    not_ok "train_writes_the_checkpoint_or_warns_why_not" "$(cat "$tmp/train_err")"
fi

# ---- eval -------------------------------------------------------------------

if [ -s "$tmp/run/agent.safetensors" ]; then
    # without --task: the checkpoint's own task, and the train command's seeds
    run eval "$tmp/run/agent.safetensors"
    want=$(sed -n 's/^final evaluation over 10 episodes: \(.*\)$/\1 over 10 episodes/p' "$tmp/train_out")
    if [ $status -eq 0 ] && [ -n "$want" ] && [ "$(cat "$tmp/out")" = "$want" ]; then
        ok "eval_of_the_checkpoint_repeats_the_final_evaluation"
    else
        not_ok "eval_of_the_checkpoint_repeats_the_final_evaluation" "want '$want'" "$(cat "$tmp/out" "$tmp/err")"
    fi
    run eval "$tmp/run/agent.safetensors" --task pendulum --episodes 3 --seed 7
    if [ $status -eq 0 ] && grep -Eq '^-?[0-9]+\.[0-9]+ ± [0-9]+\.[0-9]+ over 3 episodes$' "$tmp/out"; then
        ok "eval_takes_task_episodes_and_seed"
    else
        not_ok "eval_takes_task_episodes_and_seed" "$(cat "$tmp/out" "$tmp/err")"
    fi
    run eval "$tmp/run/agent.safetensors" --task mountaincar
    if [ $status -eq 1 ] && grep -q '^contrl: evaluation failed: ' "$tmp/err"; then
        ok "eval_on_a_task_of_other_dimensions_is_a_library_error"
    else
        not_ok "eval_on_a_task_of_other_dimensions_is_a_library_error" "status $status" "$(cat "$tmp/err")"
    fi
fi

run eval "$tmp/none.safetensors"
if [ $status -eq 1 ] && grep -q "^contrl: cannot load checkpoint" "$tmp/err"; then
    ok "eval_of_a_missing_checkpoint_is_a_library_error"
else
    not_ok "eval_of_a_missing_checkpoint_is_a_library_error" "status $status" "$(cat "$tmp/err")"
fi

# ---- vectorised stepping: --envs N --threads T --------------------------------
# The same run on 1 and 2 threads writes byte-identical checkpoints.
run train td3 pendulum --steps 1200 --learning-starts 300 --hidden 16,16 --eval-every 0 \
    --envs 3 --threads 1 --quiet --out "$tmp/vec1"
s1=$status
run train td3 pendulum --steps 1200 --learning-starts 300 --hidden 16,16 --eval-every 0 \
    --envs 3 --threads 2 --quiet --out "$tmp/vec2"
if [ $s1 -eq 0 ] && [ $status -eq 0 ] && [ -s "$tmp/vec1/agent.safetensors" ] &&
   cmp -s "$tmp/vec1/agent.safetensors" "$tmp/vec2/agent.safetensors"; then
    ok "train_with_envs_on_1_and_2_threads_writes_identical_checkpoints"
else
    not_ok "train_with_envs_on_1_and_2_threads_writes_identical_checkpoints" "status $s1 $status"
fi
# --update-threads 2: the agent's worker takes critic 1's half of each
# gradient step; the checkpoint is byte-identical to the one-thread run.
run train sac pendulum --steps 1200 --learning-starts 300 --hidden 16,16 --eval-every 0 \
    --update-threads 1 --quiet --out "$tmp/upd1"
s1=$status
run train sac pendulum --steps 1200 --learning-starts 300 --hidden 16,16 --eval-every 0 \
    --update-threads 2 --quiet --out "$tmp/upd2"
if [ $s1 -eq 0 ] && [ $status -eq 0 ] && [ -s "$tmp/upd1/agent.safetensors" ] &&
   cmp -s "$tmp/upd1/agent.safetensors" "$tmp/upd2/agent.safetensors"; then
    ok "train_with_update_threads_1_and_2_writes_identical_checkpoints"
else
    not_ok "train_with_update_threads_1_and_2_writes_identical_checkpoints" "status $s1 $status"
fi
# --overlap-env: the env steps beside the update (on the worker with 2
# threads); byte-identical on 1 and 2 threads, and not the plain run's agent.
run train td3 pendulum --steps 1200 --learning-starts 300 --hidden 16,16 --eval-every 0 \
    --update-threads 1 --overlap-env --quiet --out "$tmp/ovl1"
s1=$status
run train td3 pendulum --steps 1200 --learning-starts 300 --hidden 16,16 --eval-every 0 \
    --update-threads 2 --overlap-env --quiet --out "$tmp/ovl2"
s2=$status
run train td3 pendulum --steps 1200 --learning-starts 300 --hidden 16,16 --eval-every 0 \
    --update-threads 1 --quiet --out "$tmp/ovl0"
if [ $s1 -eq 0 ] && [ $s2 -eq 0 ] && [ $status -eq 0 ] && [ -s "$tmp/ovl1/agent.safetensors" ] &&
   cmp -s "$tmp/ovl1/agent.safetensors" "$tmp/ovl2/agent.safetensors" &&
   ! cmp -s "$tmp/ovl1/agent.safetensors" "$tmp/ovl0/agent.safetensors"; then
    ok "train_overlap_env_on_1_and_2_threads_writes_identical_checkpoints"
else
    not_ok "train_overlap_env_on_1_and_2_threads_writes_identical_checkpoints" "status $s1 $s2 $status"
fi
expect_usage_error "train_overlap_env_with_envs_2_is_a_usage_error" train td3 pendulum --envs 2 --overlap-env --out "$tmp/bad"
expect_usage_error "train_overlap_env_on_a_goal_task_is_a_usage_error" train td3 pointreach-2 --overlap-env --out "$tmp/bad"
expect_usage_error "train_update_threads_3_is_a_usage_error" train td3 pendulum --update-threads 3 --out "$tmp/bad"
expect_usage_error "train_envs_on_a_goal_task_is_a_usage_error" train td3 pointreach-2 --envs 2 --out "$tmp/bad"
expect_usage_error "train_envs_0_is_a_usage_error" train td3 pendulum --envs 0 --out "$tmp/bad"

# ---- goal tasks: HER --------------------------------------------------------
# tests/her's setup (TD3, 64,64, batch 256, lr 1e-3, gamma 0.98, future:4) is
# the goal-task default; it reaches 96-100% on pointreach-2 in 4000 steps for
# seeds 0-4, and without relabelling 0-2%. About 2 s per run.

# "final evaluation over 50 episodes: success 96.0%, mean return -10.2" -> 96.0
success_of() {
    sed -n 's/^final evaluation over 50 episodes: success \([0-9][0-9.]*\)%, mean return -\{0,1\}[0-9][0-9.]*$/\1/p' "$1"
}

run train td3 pointreach-2 --steps 4000 --quiet --out "$tmp/her"
her_success=$(success_of "$tmp/out")
if [ $status -eq 0 ] && [ -n "$her_success" ] && awk -v s="$her_success" 'BEGIN { exit !(s >= 80) }'; then
    ok "td3_her_reaches_80_percent_success_on_pointreach_2_in_4000_steps"
else
    not_ok "td3_her_reaches_80_percent_success_on_pointreach_2_in_4000_steps" "status $status, success '$her_success'" "stdout: $(cat "$tmp/out")" "stderr: $(cat "$tmp/err")"
fi

if [ -s "$tmp/her/agent.safetensors" ] &&
   head -c 4096 "$tmp/her/agent.safetensors" | grep -q '"her.format":"1"'; then
    ok "her_run_writes_a_her_checkpoint"
else
    not_ok "her_run_writes_a_her_checkpoint" "$(ls "$tmp/her")" "$(cat "$tmp/err")"
fi

# progress.csv: the usual 10 columns (evaluation return left empty) and success_rate
p="$tmp/her/progress.csv"
if [ "$(head -n 1 "$p")" = "$header,success_rate" ] &&
   [ "$(tail -n +2 "$p" | cut -d, -f1 | tr '\n' ' ')" = "1000 2000 3000 4000 " ] &&
   [ "$(tail -n +2 "$p" | awk -F, 'NF != 11 || $4 != "" || $5 != ""' | wc -l)" -eq 0 ] &&
   tail -n 1 "$p" | awk -F, '{ exit !($11 != "" && $11 >= 0 && $11 <= 1 && $6 != "") }'; then
    ok "her_progress_csv_adds_a_success_rate_column"
else
    not_ok "her_progress_csv_adds_a_success_rate_column" "$(cat "$p" 2>&1)"
fi

# pointreach episodes last 50 steps; evaluations every 1000 steps by default
v="$tmp/her/evals.csv"
if [ "$(head -n 1 "$v")" = "step,success_rate" ] &&
   [ "$(tail -n +2 "$v" | cut -d, -f1 | tr '\n' ' ')" = "1000 2000 3000 4000 " ] &&
   [ "$(tail -n +2 "$v" | awk -F, '$2 < 0 || $2 > 1' | wc -l)" -eq 0 ] &&
   [ "$(tail -n +2 "$tmp/her/episodes.csv" | wc -l)" -eq 80 ]; then
    ok "her_evals_csv_has_a_success_rate_every_1000_steps"
else
    not_ok "her_evals_csv_has_a_success_rate_every_1000_steps" "$(cat "$v" 2>&1)"
fi

if grep -q '>TD3 + HER (future, k 4) on pointreach-2, seed 0<' "$tmp/her/curve.svg" &&
   grep -q '>success rate (%)<' "$tmp/her/curve.svg" && grep -q '</svg>' "$tmp/her/curve.svg"; then
    ok "her_curve_svg_plots_the_success_rate"
else
    not_ok "her_curve_svg_plots_the_success_rate"
fi

run train td3 pointreach-2 --steps 4000 --quiet --her none --out "$tmp/her-none"
none_success=$(success_of "$tmp/out")
if [ $status -eq 0 ] && [ -n "$none_success" ] && [ -n "$her_success" ] &&
   awk -v a="$none_success" -v b="$her_success" 'BEGIN { exit !(a <= b - 50) }'; then
    ok "her_none_scores_at_least_50_points_less_on_the_same_budget"
else
    not_ok "her_none_scores_at_least_50_points_less_on_the_same_budget" "status $status, none '$none_success', future:4 '$her_success'" "$(cat "$tmp/err")"
fi

# ---- Ctrl-C -----------------------------------------------------------------
# A shell starts background jobs with SIGINT ignored (and contrl respects
# that), so python3 runs the command with SIGINT at its default.
if command -v python3 >/dev/null 2>&1; then
    python3 - "$exe" "$tmp/int" <<'EOF'
import os, signal, subprocess, sys, time
exe, out = sys.argv[1], sys.argv[2]
p = subprocess.Popen([exe, "train", "td3", "pendulum", "--steps", "1000000", "--hidden", "16",
                      "--learning-starts", "200", "--log-every", "100", "--out", out, "--quiet"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
csv = os.path.join(out, "progress.csv")
deadline = time.time() + 20
while time.time() < deadline:
    try:
        with open(csv) as f:
            if sum(1 for _ in f) >= 4:
                break
    except OSError:
        pass
    time.sleep(0.05)
p.send_signal(signal.SIGINT)
try:
    sys.exit(p.wait(timeout=30))
except subprocess.TimeoutExpired:
    p.kill()
    sys.exit(99)
EOF
    status=$?
    last=$(tail -n 1 "$tmp/int/progress.csv" 2>/dev/null | cut -d, -f1)
    if [ $status -eq 130 ] && [ -s "$tmp/int/curve.svg" ] && grep -q '</svg>' "$tmp/int/curve.svg" &&
       [ -n "$last" ] && [ "$last" -lt 1000000 ]; then
        ok "sigint_stops_training_writes_the_curve_and_exits_130"
    else
        not_ok "sigint_stops_training_writes_the_curve_and_exits_130" "status $status, last row step '$last'"
    fi
else
    echo "ok - sigint_stops_training_writes_the_curve_and_exits_130 # SKIP no python3"
fi

if [ $failures -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
exit 0

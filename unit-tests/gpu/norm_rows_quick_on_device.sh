#!/usr/bin/env bash
# The hidden-row norm layout in one short call (the budget left for one): the launch records on
# this device against plan-launches for its description, the norm and fused-norm kernel tests and
# the executor oracles on the default routes, then the 12B benchmarked with this g4run and the one
# carried in build/ab/g4run (the commit before), N = 1 and 8, alternating. Logs: $OUT/norm-rows.tgz.
#   G4C_DEADLINE=210 unit-tests/gpu/norm_rows_quick_on_device.sh
set -uo pipefail
. unit-tests/gpu/on_device_common.sh
on_device_start norm-rows
build/bin/g4c compile models/gemma4-12b.toml --batch 1,8 --context 4096 -o build/plans/12b.plan
build/bin/g4run plan-launches build/plans/12b.plan > $r/launches-device.txt 2>&1
sms=$(sed -n 's/^; width 1 on \([0-9]*\) SMs, \([0-9]*\) bytes.*/\1/p' $r/launches-device.txt)
shared=$(sed -n 's/^; width 1 on \([0-9]*\) SMs, \([0-9]*\) bytes.*/\2/p' $r/launches-device.txt)
build/bin/g4run plan-launches build/plans/12b.plan --sm-count "$sms" --max-shared "$shared" > $r/launches-described.txt 2>&1
cmp $r/launches-device.txt $r/launches-described.txt > $r/launches-cmp.txt 2>&1 && echo "identical ($sms SMs, $shared bytes)" >> $r/launches-cmp.txt
step tests timeout 110 build/bin/g4c_gpu_tests --gtest_color=no --gtest_filter='OpsTest.RmsNorm*:OpsTest.AddRmsNorm*:OpsTest.NormAndGeglu*:OpsTest.NormChain*:OpsTest.AttentionInputs*:OpsTest.PleCombine*:ExecutorTest.NormChains*:ExecutorTest.QuantizeInProducer*:ExecutorTest.AttentionInputs*:ExecutorTest.Gemma12bBatchingIsExactAtOneWidth:MatmulTest.LauncherRejects*:*ExecutorVsInterpreter*default'
for v in after before after before; do
  b=build/bin/g4run; [ $v = before ] && b=build/ab/g4run
  [ $(left) -gt 25 ] && step bench-$v-$(left) timeout 40 $b bench build/plans/12b.plan --weights random:seed=1 --batch 1,8 --context 1024
done
tar -czf $OUT/norm-rows.tgz -C $r .
cat $r/launches-cmp.txt; grep -E "^\[  (PASSED|FAILED)|tests ran" $r/tests.log | head
for f in $r/bench-*.log; do echo "== $f"; grep -E "^ +[0-9]+ +[0-9]+ |copy" $f | cut -c1-70; done
cat $r/steps.log

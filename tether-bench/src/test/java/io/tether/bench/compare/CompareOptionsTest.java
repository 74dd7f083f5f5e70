package io.tether.bench.compare;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CompareOptionsTest {

    @Test
    void defaultsAreBoundedAndLeaveTheDocsAlone() {
        CompareOptions o = CompareOptions.parse();

        assertThat(o.repeats()).isEqualTo(3);
        assertThat(o.sessions()).isEqualTo(8);
        assertThat(o.budgetMb()).isEqualTo(2048);
        assertThat(o.cap()).isEqualTo(2000);
        assertThat(o.docs()).isNull();
        assertThat(o.workloads()).doesNotContain(Workloads.Workload.CAPACITY10K)
                .contains(Workloads.Workload.LEAN, Workloads.Workload.COLDSTART, Workloads.Workload.EXECUTE);
        assertThat(o.firstExecutions()).isEqualTo(1000);
        assertThat(o.capacitySessions()).isEqualTo(10_000);
        assertThat(o.memoryStopGb()).isEqualTo(20);
    }

    @Test
    void capacity10kRunsOnlyWhenNamedAndItsSizeCanBeSet() {
        CompareOptions o = CompareOptions.parse("--workloads", "capacity10k", "--capacity-sessions", "500",
                "--memory-stop-gb", "8");

        assertThat(o.workloads()).containsExactly(Workloads.Workload.CAPACITY10K);
        assertThat(o.capacitySessions()).isEqualTo(500);
        assertThat(o.memoryStopGb()).isEqualTo(8);
        assertThat(CompareOptions.parse("--quick").firstExecutions()).isEqualTo(100);
        assertThat(CompareOptions.USAGE).contains("--workloads LIST").contains("capacity10k")
                .contains("--first-executions N");
    }

    @Test
    void workloadsCanBeChosenByName() {
        assertThat(CompareOptions.parse("--workloads", "start, Throughput").workloads())
                .containsExactlyInAnyOrder(Workloads.Workload.START, Workloads.Workload.THROUGHPUT);
        assertThatThrownBy(() -> CompareOptions.parse("--workloads", "start,speed"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown workload 'speed'");
    }

    @Test
    void optionsOverrideDefaultsAndQuickDropsTheDocsGivenBeforeIt() {
        CompareOptions o = CompareOptions.parse("--docs", "docs", "--repeats", "5", "--quick");
        assertThat(o.repeats()).isEqualTo(1);
        assertThat(o.docs()).isNull();

        CompareOptions again = CompareOptions.parse("--quick", "--docs", "docs", "--repeats", "5");
        assertThat(again.repeats()).isEqualTo(5);
        assertThat(again.docs()).isEqualTo(Path.of("docs"));
        assertThat(CompareOptions.parse("--docs", "docs", "--no-docs").docs()).isNull();
        // as the launcher passes --docs first: some workloads only must not replace the full run's section
        assertThat(CompareOptions.parse("--docs", "docs", "--workloads", "capacity10k").docs()).isNull();
        assertThat(CompareOptions.parse("--workloads", "lean", "--docs", "docs").docs()).isEqualTo(Path.of("docs"));
    }

    @Test
    void badValuesAreRefusedWithTheirName() {
        assertThatThrownBy(() -> CompareOptions.parse("--repeats", "0"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--repeats");
        assertThatThrownBy(() -> CompareOptions.parse("--repeats"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs a value");
        assertThatThrownBy(() -> CompareOptions.parse("--fast"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown option --fast");
        assertThatThrownBy(() -> CompareOptions.parse("--memory-sessions", "50", "--cap", "10"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must not exceed --cap");
    }

    @Test
    void thePageShowsTheCommandWithoutTheLaunchersPaths() {
        assertThat(CompareHarness.command("--tether-jar", "/repo/tether.jar", "--out", "/repo/target/compare",
                "--docs", "/repo/docs", "--repeats", "3")).isEqualTo("./tether compare --repeats 3");
        assertThat(CompareHarness.command("./tether compare --docs d --quick".split(" ")))
                .isEqualTo("./tether compare --quick");
    }
}

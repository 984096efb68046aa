from hubkit.hub import BoardQuery, board_domains, board_suites, board_tasks, leaderboard
from hubkit.store import stamp_hash
from hubkit.store.records import EvaluationIn
from hubkit.ui.cards import leaderboard_table
from tests.hub.world import OTHER_STAMP, STAMP, XSS_NAME


def names(board):
    return [r.name for r in board.rows]


def test_default_board_ranks_one_stamp(hub_store, world):
    board = leaderboard(store=hub_store, query=BoardQuery(domain="math"))
    assert board.task == "mw_math" and board.stamp_hash == stamp_hash(STAMP)
    assert names(board) == ["Math whiz plus", "Math whiz", XSS_NAME]  # private model never listed
    assert [r.rank for r in board.rows] == [1, 2, 3]
    assert board.rows[0].stderr == 0.02
    assert {s.stamp_hash for s in board.stamps} == {stamp_hash(STAMP), stamp_hash(OTHER_STAMP)}
    assert board_domains(store=hub_store) == ["code", "math", "translation"]


def test_other_stamp_is_its_own_board(hub_store, world):
    board = leaderboard(store=hub_store, query=BoardQuery(domain="math", stamp_hash=stamp_hash(OTHER_STAMP)))
    assert names(board) == [XSS_NAME]
    assert board.stamp["shots"] == 5
    assert leaderboard(store=hub_store, query=BoardQuery(domain="math", stamp_hash="0" * 64)).empty
    assert leaderboard(store=hub_store, query=BoardQuery(domain="math", base_family="llama3",
                                                         stamp_hash=stamp_hash(OTHER_STAMP))).empty


def test_filters_order_and_paging(hub_store, world):
    def q(**kw):
        return leaderboard(store=hub_store, query=BoardQuery(domain="math", **kw))

    assert names(q(base_family="qwen2")) == [XSS_NAME]
    assert names(q(method="fork")) == ["Math whiz plus"]
    assert names(q(method="base")) == ["Math whiz", XSS_NAME]
    worst = q(order="worst")
    assert names(worst) == [XSS_NAME, "Math whiz", "Math whiz plus"] and [r.rank for r in worst.rows] == [3, 2, 1]
    assert [r.rank for r in q(order="worst", method="base").rows] == [3, 2]
    assert q().total == 3 and q(base_family="qwen2").total == 1
    page = q(page_size=2)
    assert names(page) == ["Math whiz plus", "Math whiz"] and page.has_next
    last = q(page_size=2, page=1)
    assert names(last) == [XSS_NAME] and not last.has_next and last.rows[0].rank == 3
    assert names(q(order="worst", page_size=2, page=1)) == ["Math whiz plus"]


def test_empty_domain(hub_store, world):
    board = leaderboard(store=hub_store, query=BoardQuery(domain="reading"))
    assert board.empty and board.task is None


def _reasoning(store, run, value: float, stderr: float) -> None:
    store.record_evaluation(evaluation=EvaluationIn(domain="reasoning", task="microworld_reasoning", metric="acc",
                                                    value=value, stderr=stderr, n_samples=150, stamp=STAMP),
                            model_id=run.id)


def test_a_board_of_guessers_is_marked_without_signal(hub_store, world):
    _reasoning(hub_store, world.math_model, 0.27, 0.036)  # 4 choices: guessing scores 0.25
    _reasoning(hub_store, world.fork, 0.19, 0.032)
    board = leaderboard(store=hub_store, query=BoardQuery(domain="reasoning"))
    assert board.chance == 0.25 and board.no_signal
    assert "No signal" in leaderboard_table(board)
    _reasoning(hub_store, world.fork, 0.41, 0.040)  # re-scored: now clearly above chance
    board = leaderboard(store=hub_store, query=BoardQuery(domain="reasoning"))
    assert not board.no_signal and "No signal" not in leaderboard_table(board)


def test_a_board_without_a_fixed_guessing_score_is_never_marked(hub_store, world):
    board = leaderboard(store=hub_store, query=BoardQuery(domain="translation"))
    assert board.chance is None and not board.no_signal


STANDARD = {**STAMP, "suite": "standard"}


def _score(store, task: str, value: float, stamp: dict, *, run=None, base: str | None = None,
           domain: str = "math") -> None:
    store.record_evaluation(evaluation=EvaluationIn(domain=domain, task=task, metric="exact_match", value=value,
                                                    stderr=0.01, n_samples=100, stamp=stamp),
                            model_id=run.id if run is not None else None, base_model=base)


def test_each_suite_has_its_own_boards(hub_store, world):
    assert board_suites(store=hub_store) == ["offline"]
    for _ in range(2):  # GSM8K is now the most scored math task, yet the default suite stays offline
        _score(hub_store, "gsm8k", 0.6, STANDARD, run=world.math_model)
        _score(hub_store, "gsm8k", 0.5, STANDARD, run=world.fork)
        _score(hub_store, "gsm8k", 0.1, STANDARD, run=world.xss)
    _score(hub_store, "gsm8k", 0.05, STANDARD, base="llama3-standin")
    assert board_suites(store=hub_store) == ["offline", "standard"]
    offline = leaderboard(store=hub_store, query=BoardQuery(domain="math"))
    assert offline.task == "mw_math" and "gsm8k" not in offline.tasks
    assert board_tasks(store=hub_store, domain="math") == ["mw_math"]
    standard = leaderboard(store=hub_store, query=BoardQuery(domain="math", suite="standard"))
    assert standard.task == "gsm8k" and standard.tasks == ["gsm8k"]
    assert names(standard) == ["Math whiz", "Math whiz plus", XSS_NAME]
    assert [s.stamp_hash for s in standard.stamps] == [stamp_hash(STANDARD)] and standard.stamp["suite"] == "standard"
    assert leaderboard(store=hub_store, query=BoardQuery(domain="math", suite="standard", task="mw_math")).empty
    assert leaderboard(store=hub_store, query=BoardQuery(domain="code", suite="standard")).task is None


def test_a_task_in_both_suites_is_ranked_apart(hub_store, world):
    """HumanEval runs in both suites: its offline and standard scores are two boards, never one."""
    _score(hub_store, "hubkit_humaneval", 0.2, {**STAMP, "suite": "offline"}, run=world.math_model, domain="code")
    _score(hub_store, "hubkit_humaneval", 0.9, {**STAMP, "suite": "standard"}, run=world.fork, domain="code")
    for suite, expected in (("offline", ["Math whiz"]), ("standard", ["Math whiz plus"])):
        board = leaderboard(store=hub_store, query=BoardQuery(domain="code", suite=suite, task="hubkit_humaneval"))
        assert names(board) == expected and len(board.stamps) == 1 and board.stamp["suite"] == suite

"""Scoring of outcome measures defined as data."""

from vrp_desktop.measures.scoring import ScoreResult, check_answers, round_half_up, score, unscored

__all__ = ["ScoreResult", "check_answers", "round_half_up", "score", "unscored"]

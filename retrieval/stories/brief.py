"""Which articles of a brief tell one story, which story leads, and which article names it.

Articles join the story whose centre (the mean of its leads' vectors) their lead is nearest,
when near enough: a story is not a chain in which each article resembles only the one before,
so separate events (two football games, two court cases) stay apart. Stories rank by how
widely they were covered (outlets, then articles), then by how recently; a story is named by
its most representative article (the lead nearest its centre) and told by its newest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from retrieval.models import ArticleInfo


@dataclass
class Story:
    articles: list[ArticleInfo] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)

    @property
    def centre(self) -> np.ndarray:
        mean = np.mean(self.vectors, axis=0)
        return mean / (np.linalg.norm(mean) or 1.0)

    @property
    def outlets(self) -> tuple[str, ...]:
        found = [a.outlet for a in self.articles]
        found += [p.outlet for a in self.articles for p in a.also_published]
        return tuple(dict.fromkeys(o for o in found if o))

    @property
    def representative(self) -> ArticleInfo:
        """The article whose lead is nearest the story's centre (the newest of equals)."""
        centre = self.centre
        scored = [
            (round(float(v @ centre), 3), stamp(a), i)
            for i, (a, v) in enumerate(zip(self.articles, self.vectors, strict=True))
        ]
        return self.articles[max(scored)[2]]

    @property
    def newest(self) -> ArticleInfo:
        return max(self.articles, key=stamp)

    def rank(self) -> tuple[int, int, float]:
        size = sum(1 + len(a.also_published) for a in self.articles)
        return (-len(self.outlets), -size, -stamp(self.newest))


def group_stories(
    articles: list[ArticleInfo], vectors: dict[str, np.ndarray], same_story: float
) -> list[Story]:
    """Group articles (oldest first) into stories, biggest and newest first."""
    stories: list[Story] = []
    for article in sorted(articles, key=lambda a: a.published_at or a.ingested_at):
        vector = np.asarray(vectors[article.article_id], dtype=np.float32)
        near = [(float(vector @ s.centre), i) for i, s in enumerate(stories)]
        best = max(near, default=(0.0, -1))
        if best[0] >= same_story:
            stories[best[1]].articles.append(article)
            stories[best[1]].vectors.append(vector)
        else:
            stories.append(Story([article], [vector]))
    return sorted(stories, key=Story.rank)


def stamp(article: ArticleInfo) -> float:
    """When the article was published (else ingested), as a timestamp; 0 when unknown."""
    when = article.published_at or article.ingested_at or ""
    try:
        moment = datetime.fromisoformat(when)
    except ValueError:
        return 0.0
    return moment.timestamp()

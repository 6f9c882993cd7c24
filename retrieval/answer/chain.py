"""The chat-model answerer: a LangChain chain over our own search, with citations checked.

condense (with history) → retrieve (hybrid search) → prompt with numbered, delimited passages →
chat model → citation check. Anything that goes wrong — a provider error, a 429 after retries, a
timeout, an answer with claims but no valid citation — falls back to the extractive answer, so
the user always gets something grounded or a plain "the coverage doesn't say".
"""

from __future__ import annotations

import concurrent.futures
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from retrieval.answer.prompts import (
    ANSWER_HUMAN,
    ANSWER_SYSTEM,
    CONDENSE_HUMAN,
    CONDENSE_SYSTEM,
    LINE_HUMAN,
    LINE_SYSTEM,
    NOT_FOUND,
)
from retrieval.errors import first_line
from retrieval.models import Answer, Citation, Passage, SearchFilters, SearchHit, Turn

logger = logging.getLogger(__name__)

Search = Callable[[str, SearchFilters | None], list[SearchHit]]
Fallback = Callable[[str, Sequence[SearchHit]], Answer]

_CITATION = re.compile(r"\s?\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_REFUSAL = re.compile(
    r"(coverage|passages|articles|sources)[^.]{0,40}(doesn't|does not|don't|do not)\s+"
    r"(say|mention|contain|cover|address)",
    re.IGNORECASE,
)
UNAVAILABLE = "the chat model was unavailable, so this is the extractive answer"
UNCITED = "the chat model's answer cited no passage, so this is the extractive answer"


@dataclass(frozen=True)
class ChatModelConfig:
    model: str  # as init_chat_model understands it: "openai:gpt-4o-mini", "ollama:llama3.1"
    base_url: str | None = None
    api_key: str | None = None
    temperature: float = 0.0
    timeout: float = 30.0  # seconds for the whole answer, retries included
    max_tokens: int = 800
    max_retries: int = 2


def make_chat_model(config: ChatModelConfig) -> Any:
    """Return a LangChain chat model for the configuration (provider packages load lazily)."""
    from langchain.chat_models import init_chat_model

    model = config.model
    if config.base_url and ":" not in model:
        model = f"openai:{model}"  # a bare name with a base url means an OpenAI-compatible server
    kwargs: dict[str, Any] = {
        "temperature": config.temperature,
        "timeout": config.timeout,
        "max_tokens": config.max_tokens,
        "max_retries": config.max_retries,
    }
    if config.base_url:
        kwargs["base_url"] = config.base_url
    if config.api_key:
        kwargs["api_key"] = config.api_key
    elif config.base_url and model.startswith("openai:"):
        import os

        # Local servers (llama.cpp, vLLM, LM Studio, Ollama's /v1) ignore the key, but the
        # OpenAI client refuses to start without one.
        kwargs["api_key"] = os.environ.get("OPENAI_API_KEY") or "not-needed"
    return init_chat_model(model, **kwargs)


def format_passages(passages: Sequence[Passage]) -> str:
    """Return the passages numbered and delimited, so their text reads as data, not orders."""
    blocks = []
    for n, p in enumerate(passages, start=1):
        meta = " | ".join(x for x in (p.title, p.outlet, p.published_date) if x)
        # Neutralised, so no passage can close its own tag or open another.
        blocks.append(f'<passage n="{n}">\n{_neutral(meta)}\n\n{_neutral(p.text)}\n</passage>')
    return "\n\n".join(blocks)


def _neutral(text: str) -> str:
    return text.replace("<", "‹").replace(">", "›")


def check_citations(text: str, passages: Sequence[Passage]) -> tuple[str, list[Passage]]:
    """Drop citations of passages not given; renumber the rest 1…m in order of first use."""
    numbers: dict[int, int] = {}

    def renumber(match: re.Match[str]) -> str:
        kept = []
        for raw in re.split(r"[,;]", match[1]):
            old = int(raw)
            if 1 <= old <= len(passages):
                numbers.setdefault(old, len(numbers) + 1)
                kept.append(numbers[old])
        if not kept:
            return ""
        lead = " " if match[0].startswith((" ", "\n", "\t")) else ""
        return lead + "".join(f"[{n}]" for n in dict.fromkeys(kept))

    checked = _CITATION.sub(renumber, text).strip()
    cited = [passages[old - 1] for old, _ in sorted(numbers.items(), key=lambda kv: kv[1])]
    return checked, cited


def is_refusal(text: str) -> bool:
    """Tell whether the model said the coverage doesn't contain the answer."""
    return text.strip().startswith(NOT_FOUND[:-1]) or bool(_REFUSAL.search(text[:200]))


def history_text(history: Sequence[Turn]) -> str:
    return "\n".join(
        f"{'User' if role == 'user' else 'Assistant'}: {text}" for role, text in history
    )


class ChatAnswerer:
    """Answer with a chat model through a LangChain chain; fall back to the extractive answer."""

    def __init__(
        self,
        model: Any,
        search: Search,
        fallback: Fallback,
        *,
        timeout: float,
        history_turns: int = 6,
    ):
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate

        self.search = search
        self.fallback = fallback
        self.timeout = timeout
        self.history_turns = history_turns
        self.condense = (
            ChatPromptTemplate.from_messages(
                [("system", CONDENSE_SYSTEM), ("human", CONDENSE_HUMAN)]
            )
            | model
            | StrOutputParser()
        )
        self.generate = (
            ChatPromptTemplate.from_messages([("system", ANSWER_SYSTEM), ("human", ANSWER_HUMAN)])
            | model
            | StrOutputParser()
        )
        self.line = (
            ChatPromptTemplate.from_messages([("system", LINE_SYSTEM), ("human", LINE_HUMAN)])
            | model
            | StrOutputParser()
        )
        self.chain = self._build()
        self._pool = concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="chat-model")

    def _build(self) -> Any:
        from langchain_core.runnables import RunnableLambda, RunnablePassthrough

        def standalone(inputs: dict[str, Any]) -> str:
            history = inputs["history"][-self.history_turns :]
            if not history:
                return str(inputs["question"])
            rewritten = self.condense.invoke(
                {"history": history_text(history), "question": inputs["question"]}
            ).strip()
            logger.info("follow-up rewritten as: %s", rewritten)
            return rewritten or str(inputs["question"])

        def retrieve(inputs: dict[str, Any]) -> list[SearchHit]:
            return self.search(inputs["standalone"], inputs["filters"])

        def reply(inputs: dict[str, Any]) -> str:
            if not inputs["hits"]:
                return NOT_FOUND
            return str(
                self.generate.invoke(
                    {
                        "passages": format_passages([h.passage for h in inputs["hits"]]),
                        "question": inputs["standalone"],
                    }
                )
            )

        return (
            RunnablePassthrough.assign(standalone=RunnableLambda(standalone))
            | RunnablePassthrough.assign(hits=RunnableLambda(retrieve))
            | RunnablePassthrough.assign(reply=RunnableLambda(reply))
        )

    def answer(
        self,
        question: str,
        history: Sequence[Turn] = (),
        filters: SearchFilters | None = None,
    ) -> Answer:
        """Return the chat model's cited answer, or the extractive one when it can't give one."""
        inputs = {"question": question, "history": list(history), "filters": filters}
        future = self._pool.submit(self.chain.invoke, inputs)
        try:
            result = future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            logger.warning("chat model gave no answer within %.0f s", self.timeout)
            return self._fallback(question, filters, UNAVAILABLE)
        except Exception as exc:
            logger.warning("chat model failed: %s: %s", type(exc).__name__, first_line(exc))
            return self._fallback(question, filters, UNAVAILABLE)
        hits: list[SearchHit] = result["hits"]
        reply = str(result["reply"]).strip()
        text, cited = check_citations(reply, [h.passage for h in hits])
        if cited:
            citations = tuple(Citation(n, p) for n, p in enumerate(cited, start=1))
            return Answer(text, citations, grounded=True)
        if is_refusal(reply):
            return Answer(NOT_FOUND, (), grounded=False)
        logger.warning("chat model answer had no valid citation; using the extractive answer")
        return replace(self.fallback(result["standalone"], hits), notes=(UNCITED,))

    def write_lines(
        self, tasks: Sequence[tuple[str, Sequence[Passage]]]
    ) -> list[tuple[str, list[Passage]] | None]:
        """Write each task's line from its own passages only, all within one `timeout`.

        Each line comes back with its citations checked (renumbered 1…m by first use, with the
        passages they point to), or None where the model failed, was late, refused, or cited
        none of its passages: the caller keeps its own (extractive) line there.
        """
        futures = [
            self._pool.submit(
                self.line.invoke, {"passages": format_passages(passages), "task": task}
            )
            for task, passages in tasks
        ]
        done, late = concurrent.futures.wait(futures, timeout=self.timeout)
        for future in late:
            future.cancel()
        if late:
            logger.warning("chat model wrote %d of %d lines in time", len(done), len(futures))
        lines: list[tuple[str, list[Passage]] | None] = []
        for future, (_, passages) in zip(futures, tasks, strict=True):
            error = future.exception() if future in done else None
            if error is not None:
                logger.warning("chat model failed on a line: %s", first_line(error))
            if future not in done or error is not None:
                lines.append(None)
                continue
            reply = str(future.result()).strip()
            text, cited = check_citations(reply, passages)
            lines.append((text, cited) if cited and not is_refusal(reply) else None)
        return lines

    def _fallback(self, question: str, filters: SearchFilters | None, note: str) -> Answer:
        answer = self.fallback(question, self.search(question, filters))
        return replace(answer, notes=(*answer.notes, note))

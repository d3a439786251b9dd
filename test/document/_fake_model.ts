// A stand-in DocTags model: records every request and answers from a script,
// so page handling (statuses, stop strings, images, caps) is tested without weights.
import type { GenerateRequest, GenerationResult } from "../../src/runtime/generation_types.ts";
import type { TaskModel } from "../../src/runtime/tasks/run_task.ts";

export const EOS = 2;
/** Ids 100..599 are the location tokens `<loc_0>`..`<loc_499>`. */
export const loc = (n: number) => 100 + n;

/** What the model does on one call: answer, or throw. */
export type Reply =
  | { text: string; tokenIds: number[]; finishReason: GenerationResult["finishReason"] }
  | { throws: Error };

export interface FakeModel extends TaskModel {
  requests: GenerateRequest[];
}

/** A model that answers the n-th request with `script(n, request)`. */
export function fakeModel(script: (call: number, request: GenerateRequest) => Reply): FakeModel {
  const requests: GenerateRequest[] = [];
  return {
    requests,
    plan: { spec: { tokens: { eosIds: [EOS] } } } as unknown as TaskModel["plan"],
    tokenizer: {
      tokenText: (id: number) => id >= 100 && id < 600 ? `<loc_${id - 100}>` : `t${id}`,
    } as unknown as TaskModel["tokenizer"],
    generate(request) {
      const call = requests.length;
      requests.push(request);
      const reply = script(call, request);
      if ("throws" in reply) return Promise.reject(reply.throws);
      return Promise.resolve({
        text: reply.text,
        tokenIds: reply.tokenIds,
        finishReason: reply.finishReason,
        promptTokens: 10,
        imageTokens: 1,
        reusedPrefixTokens: 0,
        cachedImages: 0,
        timings: {
          loadMs: 0,
          preprocessMs: 0,
          visionMs: 0,
          prefillMs: 0,
          ttftMs: 0,
          decodeTokensPerSec: 0,
        },
      });
    },
  };
}

/** A closed page's DocTags with one text element. */
export function pageDoctags(text: string): string {
  return `<doctag><text><loc_10><loc_10><loc_490><loc_40>${text}</text></doctag>`;
}

/** Replies: a normal page. */
export function okReply(text: string): Reply {
  return { text: pageDoctags(text), tokenIds: [5, 6, 7, EOS], finishReason: "stop_string" };
}

/** Replies: 15 copies of a 20-token element whose boxes step down the page, then EOS. */
export function loopingReply(): Reply {
  const ids: number[] = [];
  for (let i = 0; i < 15; i++) {
    ids.push(10, loc(10), loc(10 + i * 20), loc(400), loc(20 + i * 20));
    for (let k = 0; k < 14; k++) ids.push(20 + k);
    ids.push(11);
  }
  ids.push(EOS);
  const text = "<doctag>" + "<text><loc_10><loc_10><loc_400><loc_20>Same line</text>".repeat(15);
  return { text, tokenIds: ids, finishReason: "eos" };
}

/** Replies: cut off by the token cap. */
export function cappedReply(tokens: number): Reply {
  return {
    text: "<doctag><text><loc_10><loc_10><loc_490><loc_40>Unfinished",
    tokenIds: Array.from({ length: tokens }, (_, i) => 30 + (i % 7) * 13 + i),
    finishReason: "max_tokens",
  };
}

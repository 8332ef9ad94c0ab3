import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLlmProvider } from '../../adapters/llm/create.js';
import { completeStructured } from '../../adapters/llm/port.js';
import { loadConfig } from '../../config.js';

// A live smoke test against the configured provider. It needs an account, so it runs only when
// INFRAAI_LLM_LIVE_TEST=1 and an LLM is configured (see the README's configuration table).
const config = process.env.INFRAAI_LLM_LIVE_TEST === '1' ? loadConfig().llm : null;

if (config) {
  describe(`live LLM (${config.provider}, ${config.model})`, () => {
    it('answers a structured question', async () => {
      const provider = createLlmProvider(config)!;
      const { value } = await completeStructured(
        provider,
        [{ role: 'user', content: 'A Linux host reports "No space left on device". Name the category.' }],
        z.object({ category: z.string().min(2) }),
        'category',
      );
      expect(value.category.length).toBeGreaterThan(1);
    });
  });
} else {
  console.info('Live LLM smoke test skipped: set INFRAAI_LLM_LIVE_TEST=1 with an LLM configured (e.g. OPENROUTER_API_KEY) to run it.');
  describe.skip('live LLM (not configured)', () => undefined);
}

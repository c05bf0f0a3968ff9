import { useState } from 'preact/hooks';

/** A secret shown this once, with "Copy"; it is dropped from memory when dismissed. */
export const SecretOnce = ({ label, secret, onDone }: { label: string; secret: string; onDone: () => void }) => {
  const [copied, setCopied] = useState('');
  return (
    <section class="card secret" aria-label={label}>
      <p>
        <strong>{label}.</strong> Copy it now: it is shown only this once.
      </p>
      <code class="secret-value">{secret}</code>
      <div class="row">
        <button
          type="button"
          onClick={() =>
            navigator.clipboard.writeText(secret).then(
              () => setCopied('Copied.'),
              () => setCopied('Copy failed: select the key and copy it by hand.'),
            )
          }
        >
          Copy
        </button>
        <button type="button" class="secondary" onClick={onDone}>
          Done
        </button>
        <span role="status">{copied}</span>
      </div>
    </section>
  );
};

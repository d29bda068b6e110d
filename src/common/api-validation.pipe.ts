import { ArgumentMetadata, BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';
import { hasUnstorableText } from './storable-text';

function firstError(errors: ValidationError[], prefix = ''): { field: string; message: string } | null {
  for (const e of errors) {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const message = Object.values(e.constraints ?? {})[0];
    if (message) return { field, message };
    const nested = firstError(e.children ?? [], field);
    if (nested) return nested;
  }
  return null;
}

/** The first string or key (path to it) holding text no database stores; iterative, bodies are client-built. */
function findUnstorable(root: unknown, rootPath: string): string | null {
  const stack: [unknown, string][] = [[root, rootPath]];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (hasUnstorableText(value)) return path || 'body';
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const at = Array.isArray(value) ? `${path}[${k}]` : path ? `${path}.${k}` : k;
        if (hasUnstorableText(k)) return path || 'body';
        stack.push([v, at]);
      }
    }
  }
  return null;
}

/**
 * Operator input with NUL or unpaired surrogates is refused with 400: PostgreSQL cannot compare or store it
 * (a 500 otherwise, e.g. a NUL in a search filter), and unlike a box an operator can correct and resend.
 */
class ApiValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Custom parameters are no REST input: the caller (@Principal) or a box push, which has its own checks and must
    // never be answered differently by this pipe.
    if (metadata.type === 'custom') return value;
    const field = findUnstorable(value, metadata.type === 'body' ? '' : (metadata.data ?? ''));
    if (field !== null) {
      throw new BadRequestException({ field, message: `${field} must not contain NUL characters or unpaired UTF-16 surrogates` });
    }
    return super.transform(value, metadata);
  }
}

/**
 * Validation for the REST API's query strings, path parameters and bodies, global (APP_PIPE in AppModule): unknown
 * properties are refused and the first problem is reported as {message, field}. Messages name the rule, never echo
 * the value.
 */
export function apiValidationPipe(): ValidationPipe {
  return new ApiValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const first = firstError(errors) ?? { field: 'body', message: 'invalid request' };
      return new BadRequestException(first);
    },
  });
}

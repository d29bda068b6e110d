import { BadRequestException, ValidationError, ValidationPipe } from '@nestjs/common';

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

/**
 * Validation for the REST API's query strings and bodies: unknown properties are refused and the
 * first problem is reported as {message, field}. Messages name the rule, never echo the value.
 */
export function apiValidationPipe(): ValidationPipe {
  return new ValidationPipe({
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
